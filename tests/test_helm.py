"""The Helm chart (helm/arena-hub), checked offline: no cluster, nothing downloaded.

- The chart's own templates render with the Helm 4 SDK (helm-python-sdk, no helm binary) and pass
  `helm lint`. The Zero-to-JupyterHub dependency cannot be downloaded here, so its templates are
  not rendered: what we give it (`jupyterhub:` values) is validated against its values schema
  (helm/arena-hub/ci/z2jh-values.schema.yaml) and the user pods it would create are built by the
  real KubeSpawner from those values.
- Every rendered manifest and every user pod passes strict kubernetes-validate for 1.32. Kueue's
  objects are custom resources outside that schema set; they are checked against the fields of
  Kueue's v1beta1 API that the chart uses.
- Cross-checks with the code: the grading ConfigMap loads as KubernetesSettings, the Jobs it
  yields are selected by the NetworkPolicy, mount the chart's claim, live in the Role's namespace,
  and every API call the backend makes is allowed by the Role (and nothing more is granted).
"""

from __future__ import annotations

import asyncio
import copy
import importlib.util
import json
import re
import threading
from dataclasses import replace
from datetime import timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

import helm_python as helm
import jsonschema
import kubernetes_validate
import pytest
import yaml

from arena_hub.grading.job import GradingJob
from arena_hub.grading.kubernetes import KubernetesBackend, KubernetesSettings, job_manifest, results_subpath
from tests.helpers import JsonHandler

REPO = Path(__file__).resolve().parent.parent
CHART = REPO / "helm" / "arena-hub"
PRODUCTION = yaml.safe_load((CHART / "ci" / "production-values.yaml").read_text())
K8S = "1.32.0"
NS = "arena"

JOB = GradingJob("c0d0-prereqs", "alice", "2026-11-30 10:00:00.000000 UTC",
                 cpus=2, memory_mib=2048, gpus=0, world_size=1, timeout_seconds=300)
GPU_JOB = replace(JOB, gpus=1, student_id="bob")


def deep_merge(base: dict, over: dict) -> dict:
    """Helm's coalescing of values: maps merge, everything else (lists too) is replaced."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


@pytest.fixture(scope="module")
def chart():
    with helm.Chart.load(CHART) as loaded:
        yield loaded


def render(chart, values=None, namespace=NS) -> list[dict]:
    """The manifests the chart's own templates render to (NOTES.txt aside)."""
    out = chart.render(values=values or {}, name="arena", namespace=namespace)
    docs = []
    for path, text in sorted(out.items()):
        if path.endswith(".yaml"):
            docs += [d for d in yaml.safe_load_all(text) if d]
    return docs


def by_kind(docs, kind, name=None):
    found = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert found, f"no {kind} {name or ''}"
    return found


def one(docs, kind, name=None):
    [doc] = by_kind(docs, kind, name)
    return doc


def values(over=None) -> dict:
    return deep_merge(yaml.safe_load((CHART / "values.yaml").read_text()), over or {})


# Values sets every structural test runs on: the defaults, the production overlay, and grading in
# a namespace of its own (where the course data claims are made by the operator).
OTHER_NS = {"grading": {"namespace": "arena-grading"}, "courseData": {"create": False},
            "kueue": {"enabled": True}}
VALUE_SETS = {"default": {}, "production": PRODUCTION, "grading-namespace": OTHER_NS}


# ---------------------------------------------------------------------------------------------
# Chart, lint, schemas


def test_chart_depends_on_zero_to_jupyterhub_4():
    meta = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert meta["apiVersion"] == "v2"
    assert meta["dependencies"] == [{"name": "jupyterhub", "version": "4.x",
                                     "repository": "https://hub.jupyter.org/helm-chart/",
                                     "condition": "jupyterhub.enabled"}]
    # Not vendored (nothing can be downloaded here): declared, and absent from charts/.
    assert [d["status"] for d in helm.dependency_list(CHART)] == ["missing"]


@pytest.mark.parametrize("name", VALUE_SETS)
def test_helm_lint(name):
    report = helm.lint(CHART, VALUE_SETS[name], kube_version=f"v{K8S}")
    assert report["errors"] == []
    # The one finding: the dependency is declared but not downloaded (`helm dependency build`
    # fetches it in a real deployment).
    assert [(m["severity"], m["error"]) for m in report["messages"]] == \
        [(2, "chart directory is missing these dependencies: jupyterhub")]


KUEUE_SCHEMAS = {
    # The fields of Kueue's v1beta1 API (kueue.x-k8s.io) the chart writes, no others allowed.
    "LocalQueue": {
        "type": "object", "required": ["apiVersion", "kind", "metadata", "spec"], "additionalProperties": False,
        "properties": {
            "apiVersion": {"const": "kueue.x-k8s.io/v1beta1"}, "kind": {"const": "LocalQueue"},
            "metadata": {"type": "object", "required": ["name", "namespace"]},
            "spec": {"type": "object", "additionalProperties": False, "required": ["clusterQueue"],
                     "properties": {"clusterQueue": {"type": "string", "minLength": 1}}},
        },
    },
    "ResourceFlavor": {
        "type": "object", "required": ["apiVersion", "kind", "metadata", "spec"], "additionalProperties": False,
        "properties": {
            "apiVersion": {"const": "kueue.x-k8s.io/v1beta1"}, "kind": {"const": "ResourceFlavor"},
            "metadata": {"type": "object", "required": ["name"], "not": {"required": ["namespace"]}},
            "spec": {"type": "object", "additionalProperties": False,
                     "properties": {"nodeLabels": {"type": "object"}, "tolerations": {"type": "array"}}},
        },
    },
    "ClusterQueue": {
        "type": "object", "required": ["apiVersion", "kind", "metadata", "spec"], "additionalProperties": False,
        "properties": {
            "apiVersion": {"const": "kueue.x-k8s.io/v1beta1"}, "kind": {"const": "ClusterQueue"},
            "metadata": {"type": "object", "required": ["name"], "not": {"required": ["namespace"]}},
            "spec": {"type": "object", "additionalProperties": False, "required": ["resourceGroups"], "properties": {
                "namespaceSelector": {"type": "object", "additionalProperties": False, "properties": {
                    "matchLabels": {"type": "object", "additionalProperties": {"type": "string"}}}},
                "resourceGroups": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "additionalProperties": False, "required": ["coveredResources", "flavors"],
                    "properties": {
                        "coveredResources": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                        "flavors": {"type": "array", "minItems": 1, "items": {
                            "type": "object", "additionalProperties": False, "required": ["name", "resources"],
                            "properties": {
                                "name": {"type": "string"},
                                "resources": {"type": "array", "items": {
                                    "type": "object", "additionalProperties": False,
                                    "required": ["name", "nominalQuota"],
                                    "properties": {"name": {"type": "string"},
                                                   "nominalQuota": {"type": ["string", "integer"],
                                                                    "pattern": r"^[0-9]+(\.[0-9]+)?([KMGTPE]i?|m)?$"}},
                                }},
                            }}},
                    }}},
            }},
        },
    },
}


def validate_manifest(doc):
    if doc["apiVersion"].startswith("kueue.x-k8s.io/"):
        jsonschema.validate(doc, KUEUE_SCHEMAS[doc["kind"]])
    else:
        kubernetes_validate.validate(doc, K8S, strict=True)


@pytest.mark.parametrize("name", VALUE_SETS)
def test_every_rendered_manifest_is_valid(chart, name):
    docs = render(chart, VALUE_SETS[name])
    for doc in docs:
        validate_manifest(doc)
    kinds = {d["kind"] for d in docs}
    assert {"ServiceAccount", "Role", "RoleBinding", "NetworkPolicy", "ConfigMap", "Deployment",
            "Service"} <= kinds
    assert not kinds & {"ClusterRole", "ClusterRoleBinding", "Secret"}


def test_kueue_objects(chart):
    docs = render(chart, PRODUCTION)
    queue = one(docs, "LocalQueue")
    cq = one(docs, "ClusterQueue")
    assert queue["metadata"]["namespace"] == NS and queue["spec"]["clusterQueue"] == cq["metadata"]["name"]
    assert cq["spec"]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": NS}
    [group] = cq["spec"]["resourceGroups"]
    [flavor] = group["flavors"]
    assert flavor["name"] == one(docs, "ResourceFlavor")["metadata"]["name"]
    quota = {r["name"]: r["nominalQuota"] for r in flavor["resources"]}
    assert quota == {"cpu": "96", "memory": "384Gi", "nvidia.com/gpu": 8}
    assert set(group["coveredResources"]) == set(quota)
    # The grading Jobs go to that LocalQueue.
    settings = grading_settings(docs)
    assert settings.kueue_queue == queue["metadata"]["name"]
    manifest = job_manifest(GPU_JOB, settings)
    assert manifest["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == queue["metadata"]["name"]
    assert manifest["spec"]["suspend"] is True
    # Off by default; the cluster-scoped objects only when asked for.
    assert not [d for d in render(chart) if d["apiVersion"].startswith("kueue")]
    only_local = render(chart, {"kueue": {"enabled": True}})
    assert [d["kind"] for d in only_local if d["apiVersion"].startswith("kueue")] == ["LocalQueue"]
    with pytest.raises(jsonschema.ValidationError):  # the structural check does bite
        jsonschema.validate({**queue, "spec": {"clusterQueue": ""}}, KUEUE_SCHEMAS["LocalQueue"])


def schema_properties(schema, path=""):
    for name, prop in schema.get("properties", {}).items():
        yield f"{path}{name}", prop
        yield from schema_properties(prop, f"{path}{name}.")


def test_values_schema_documents_and_accepts_the_defaults():
    schema = json.loads((CHART / "values.schema.json").read_text())
    undocumented = [p for p, prop in schema_properties(schema) if not prop.get("description")]
    assert undocumented == []
    jsonschema.Draft7Validator.check_schema(schema)
    own = set(schema["properties"])
    assert set(values()) == own - {"global"}  # every top-level value is in the schema
    for over in VALUE_SETS.values():
        jsonschema.validate(values(over), schema)


@pytest.mark.parametrize("bad, where", [
    ({"kueue": {"clusterQueue": {"quota": {"gpus": "four"}}}}, "gpus"),
    ({"kueue": {"clusterQueue": {"quota": {"gpus": 1.5}}}}, "gpus"),
    ({"gpuCulling": {"timeoutSeconds": "soon"}}, "timeoutSeconds"),
    ({"grading": {"ranksLauncher": "mpirun"}}, "ranksLauncher"),
    ({"grading": {"namespace": "Grading_NS"}}, "namespace"),
    ({"courseData": {"size": "lots"}}, "size"),
    ({"gradnig": {}}, "gradnig"),
])
def test_values_schema_rejects_bad_values(chart, bad, where):
    with pytest.raises(helm.HelmValuesError, match=where):
        chart.validate_schema(bad)
    with pytest.raises(helm.HelmError):
        chart.render(values=bad, name="arena", namespace=NS)


@pytest.mark.parametrize("over, message", [
    ({"postgresql": {"enabled": True, "gradebookUrl": "postgresql://a@db/g"}}, "hub database there too"),
    ({"jupyterhub": {"hub": {"db": {"type": "postgres", "url": "postgresql://a@db/h"}}}}, "gradebook would stay"),
    ({"postgresql": {"enabled": True},
      "jupyterhub": {"hub": {"db": {"type": "postgres", "url": "postgresql://a@db/h"}}}},
     "needs postgresql.gradebookUrl"),
    ({"dashboard": {"enabled": True}}, "dashboard.enabled and the hub service"),
    ({"gpuCulling": {"timeoutSeconds": 3600}}, "must be shorter than jupyterhub.cull.timeout"),
    ({"grading": {"namespace": "arena-grading"}}, "courseData.create=false"),
    ({"kueue": {"clusterQueue": {"create": True}}}, "needs kueue.enabled"),
])
def test_inconsistent_values_are_refused_with_a_reason(chart, over, message):
    with pytest.raises(helm.HelmRenderError, match=re.escape(message)):
        chart.render(values=over, name="arena", namespace=NS)


# ---------------------------------------------------------------------------------------------
# Grading: RBAC, NetworkPolicy, settings, volumes


def grading_settings(docs) -> KubernetesSettings:
    from traitlets.config import Config

    cm = one(docs, "ConfigMap", "arena-hub-grading")
    return KubernetesSettings(config=Config(json.loads(cm["data"]["grading.json"])))


def grants(role) -> set[tuple[str, str, str]]:
    return {(group, resource, verb) for rule in role["rules"] for group in rule["apiGroups"]
            for resource in rule["resources"] for verb in rule["verbs"]}


@pytest.mark.parametrize("name", VALUE_SETS)
def test_rbac_grants_exactly_the_grading_engines_needs(chart, name):
    docs = render(chart, VALUE_SETS[name])
    ns = grading_settings(docs).namespace
    role, binding, sa = one(docs, "Role"), one(docs, "RoleBinding"), one(docs, "ServiceAccount")
    assert role["metadata"]["namespace"] == binding["metadata"]["namespace"] == ns
    assert grants(role) == {
        ("batch", "jobs", "create"), ("batch", "jobs", "get"), ("batch", "jobs", "list"),
        ("batch", "jobs", "watch"), ("batch", "jobs", "delete"),
        ("batch", "jobs/status", "get"),  # read_namespaced_job_status
        ("", "pods", "get"), ("", "pods", "list"), ("", "pods", "watch"),
        ("", "pods/log", "get"),
    }
    assert not any("resourceNames" in r or "nonResourceURLs" in r for r in role["rules"])
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": role["metadata"]["name"]}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": sa["metadata"]["name"],
                                    "namespace": NS}]
    formgrader = one(docs, "Deployment", "arena-formgrader")["spec"]["template"]["spec"]
    assert formgrader["serviceAccountName"] == sa["metadata"]["name"]


class RecordingAPI(JsonHandler):
    """A Kubernetes API on loopback that answers the backend's calls and records them."""

    calls: list = []

    def _send(self, body, code=200):
        self.send_json(code, body)

    def _record(self):
        url = urlparse(self.path)
        self.calls.append((self.command, url.path, parse_qs(url.query)))
        return url.path

    def do_POST(self):
        self._record()
        self._send(json.loads(self.rfile.read(int(self.headers["Content-Length"]))), 201)

    def do_DELETE(self):
        self._record()
        self._send({"kind": "Status", "apiVersion": "v1", "status": "Success"})

    def do_GET(self):
        path = self._record()
        if path.endswith("/status"):
            failed = "/grade-c0d0-prereqs-bob-" in path
            cond = {"type": "Failed" if failed else "Complete", "status": "True"}
            return self._send({"kind": "Job", "apiVersion": "batch/v1", "metadata": {"name": "x"},
                               "status": {"conditions": [cond]}})
        if path.endswith("/pods"):
            return self._send({"kind": "PodList", "apiVersion": "v1", "metadata": {},
                               "items": [{"metadata": {"name": "p"}}]})
        if path.endswith("/log"):
            self.send_response(200)
            self.send_header("Content-Length", "3")
            self.end_headers()
            return self.wfile.write(b"oh\n")
        self._send({"kind": "Status", "code": 404}, 404)


def rbac_request(method, path, query):
    """(namespace, API group, resource[/subresource], verb) the API server authorizes a call as."""
    m = re.fullmatch(r"/(?:api/v1|apis/(?P<group>[^/]+)/[^/]+)/namespaces/(?P<ns>[^/]+)/(?P<res>[^/]+)"
                     r"(?:/(?P<name>[^/]+))?(?:/(?P<sub>[^/]+))?", path)
    assert m, path
    verb = {"POST": "create", "DELETE": "delete", "PUT": "update", "PATCH": "patch"}.get(method)
    if verb is None:
        verb = "get" if m["name"] else ("watch" if query.get("watch") else "list")
    return m["ns"], m["group"] or "", m["res"] + (f"/{m['sub']}" if m["sub"] else ""), verb


def test_every_call_of_the_backend_is_allowed_by_the_role(chart, tmp_path):
    from kubernetes import client

    docs = render(chart, OTHER_NS)
    settings = grading_settings(docs)
    settings.poll_seconds = 0
    role = one(docs, "Role")
    RecordingAPI.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordingAPI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        api = client.ApiClient(client.Configuration(host=f"http://127.0.0.1:{server.server_address[1]}"))
        ok = tmp_path / results_subpath(JOB) / "course"
        ok.mkdir(parents=True)
        (ok / "gradebook.db").write_bytes(b"")
        outcomes = KubernetesBackend(tmp_path, settings, api).run([JOB, GPU_JOB])
    finally:
        server.shutdown()
        server.server_close()
    assert sorted(o.ok for o in outcomes) == [False, True]  # the failed one's log was read too
    used = {rbac_request(*call) for call in RecordingAPI.calls}
    assert {u[3] for u in used} >= {"create", "get", "list", "delete"}
    assert {ns for ns, *_ in used} == {role["metadata"]["namespace"]} == {"arena-grading"}
    assert {u[1:] for u in used} <= grants(role)


@pytest.mark.parametrize("name", VALUE_SETS)
def test_networkpolicy_isolates_exactly_the_grading_pods(chart, name):
    docs = render(chart, VALUE_SETS[name])
    settings = grading_settings(docs)
    policy = one(docs, "NetworkPolicy")
    spec = policy["spec"]
    assert policy["metadata"]["namespace"] == settings.namespace
    assert sorted(spec["policyTypes"]) == ["Egress", "Ingress"]
    assert spec.get("egress", []) == [] and spec.get("ingress", []) == []  # deny all, both ways
    selector = spec["podSelector"]["matchLabels"]
    for job in (JOB, GPU_JOB):
        pod_labels = job_manifest(job, settings)["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= pod_labels.items()
    # ... and nothing else of the release: the hub's services keep their network.
    for deployment in by_kind(docs, "Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert not selector.items() <= labels.items()
    off = render(chart, {"grading": {"networkPolicy": {"enabled": False}}})
    assert not [d for d in off if d["kind"] == "NetworkPolicy"]


@pytest.mark.parametrize("name", VALUE_SETS)
def test_grading_configmap_is_the_kubernetes_settings(chart, name):
    docs = render(chart, VALUE_SETS[name])
    cm = json.loads(one(docs, "ConfigMap", "arena-hub-grading")["data"]["grading.json"])
    configurable = set(KubernetesSettings.class_trait_names(config=True))
    assert set(cm["KubernetesSettings"]) == configurable  # every trait set, none unknown
    settings = grading_settings(docs)  # traitlets type-checks every value here
    chosen = values(VALUE_SETS[name])
    assert settings.data_claim == chosen["courseData"]["claimName"]
    assert settings.gpu_node_selector == chosen["grading"]["gpuNodeSelector"]
    assert settings.gpu_tolerations == chosen["grading"]["gpuTolerations"]
    assert settings.image == chosen["grading"]["image"]
    for job in (JOB, GPU_JOB):
        manifest = job_manifest(job, settings)
        kubernetes_validate.validate(manifest, K8S, strict=True)
        assert manifest["metadata"]["namespace"] == one(docs, "Role")["metadata"]["namespace"]
        claims = {v["persistentVolumeClaim"]["claimName"]
                  for v in manifest["spec"]["template"]["spec"]["volumes"] if "persistentVolumeClaim" in v}
        assert claims == {chosen["courseData"]["claimName"]}
    gpu_pod = job_manifest(GPU_JOB, settings)["spec"]["template"]["spec"]
    assert gpu_pod["nodeSelector"] == chosen["grading"]["gpuNodeSelector"]
    # The formgrader and the dashboard read it from the mounted ConfigMap.
    for deployment in by_kind(docs, "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
        mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "grading-config")
        assert env["ARENA_HUB_GRADING_CONFIG"] == f"{mount['mountPath']}/grading.json"
        volume = next(v for v in pod["volumes"] if v["name"] == "grading-config")
        assert volume["configMap"]["name"] == "arena-hub-grading"


def test_course_volumes_are_readwritemany_and_kept(chart):
    docs = render(chart, PRODUCTION)
    claims = {c["metadata"]["name"]: c for c in by_kind(docs, "PersistentVolumeClaim")}
    assert set(claims) == {"arena-course-data", "arena-exchange"}
    for claim in claims.values():
        assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
        assert claim["spec"]["storageClassName"] == "nfs-client"
        assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert "storageClassName" not in one(render(chart), "PersistentVolumeClaim", "arena-exchange")["spec"]
    # Grading in another namespace: the operator makes the claims (one per namespace).
    assert not [d for d in render(chart, OTHER_NS) if d["metadata"]["name"] == "arena-course-data"]


# ---------------------------------------------------------------------------------------------
# The hub services run by this chart


def env_of(container) -> dict:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_formgrader_is_the_hubs_arena_service(chart):
    docs = render(chart)
    jh = values()["jupyterhub"]
    deployment = one(docs, "Deployment", "arena-formgrader")
    service = one(docs, "Service", "arena-formgrader")
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    env = env_of(container)
    # The hub proxies /services/arena/ to the URL registered in jupyterhub.hub.services.arena.
    url = urlparse(jh["hub"]["services"]["arena"]["url"])
    assert (url.hostname, url.port) == (service["metadata"]["name"], service["spec"]["ports"][0]["port"])
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert env["JUPYTERHUB_SERVICE_NAME"] == "arena" and env["JUPYTERHUB_CLIENT_ID"] == "service-arena"
    assert env["JUPYTERHUB_SERVICE_PREFIX"] == "/services/arena/"
    assert env["JUPYTERHUB_OAUTH_CALLBACK_URL"] == "/services/arena/oauth_callback"
    assert env["JUPYTERHUB_API_URL"] == "http://hub:8081/hub/api"
    assert env["JUPYTERHUB_DEFAULT_URL"] == "/formgrader"
    assert env["JUPYTERHUB_API_TOKEN"] == {"secretKeyRef": {"name": "hub", "key": "hub.services.arena.apiToken"}}
    assert json.loads(env["JUPYTERHUB_OAUTH_ACCESS_SCOPES"]) == ["access:services", "access:services!service=arena"]
    assert container["workingDir"] == env["ARENA_HUB_COURSE_ROOT"] == "/srv/arena"
    # SQLite by default: no URL, nbgrader's file on the course data volume (one writer).
    assert "ARENA_HUB_GRADEBOOK_URL" not in env and deployment["spec"]["strategy"]["type"] == "Recreate"
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    claims = {v["name"]: v.get("persistentVolumeClaim", {}).get("claimName") for v in pod["volumes"]}
    assert claims[mounts[env["ARENA_HUB_DATA_DIR"]]] == "arena-course-data"
    assert claims[mounts[env["ARENA_HUB_EXCHANGE_DIR"]]] == "arena-exchange"
    # Reaches the hub's API through Zero-to-JupyterHub's hub NetworkPolicy.
    assert deployment["spec"]["template"]["metadata"]["labels"]["hub.jupyter.org/network-access-hub"] == "true"
    # Graders (formgrade-arena) may open it; nobody else gets the scope.
    [role] = [r for r in jh["hub"]["loadRoles"].values() if "access:services!service=arena" in r["scopes"]]
    assert role["groups"] == ["formgrade-arena"]
    security = pod["securityContext"]
    assert security["runAsNonRoot"] and security["runAsUser"] == 1000
    assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_postgresql_for_the_hub_and_the_gradebook(chart):
    docs = render(chart, PRODUCTION)
    secret = {"secretKeyRef": {"name": "arena-hub-postgresql", "key": "password"}}
    for name in ("arena-formgrader", "arena-dashboard"):
        env = env_of(one(docs, "Deployment", name)["spec"]["template"]["spec"]["containers"][0])
        assert env["ARENA_HUB_GRADEBOOK_URL"] == PRODUCTION["postgresql"]["gradebookUrl"]
        assert env["PGPASSWORD"] == secret
    hub = values(PRODUCTION)["jupyterhub"]["hub"]
    assert hub["db"]["type"] == "postgres" and hub["db"]["url"].startswith("postgresql://")
    assert hub["extraEnv"]["PGPASSWORD"] == {"valueFrom": secret}
    assert values()["jupyterhub"]["hub"]["db"]["type"] == "sqlite-pvc"  # the default keeps SQLite


def test_dashboard_service(chart):
    docs = render(chart, PRODUCTION)
    jh = values(PRODUCTION)["jupyterhub"]
    deployment = one(docs, "Deployment", "arena-dashboard")
    pod = deployment["spec"]["template"]["spec"]
    env = env_of(pod["containers"][0])
    assert urlparse(jh["hub"]["services"]["arena-dashboard"]["url"]).hostname == \
        one(docs, "Service", "arena-dashboard")["metadata"]["name"]
    assert env["JUPYTERHUB_SERVICE_PREFIX"] == "/services/arena-dashboard/"
    assert env["JUPYTERHUB_API_TOKEN"]["secretKeyRef"]["key"] == "hub.services.arena-dashboard.apiToken"
    assert pod["automountServiceAccountToken"] is False  # no Kubernetes API for the dashboard
    # The hub image runs the service module (it reads the prefix and address from the env above).
    command = pod["containers"][0]["command"]
    assert command[1] == "-m" and importlib.util.find_spec(command[2]) is not None, command
    assert "def main" in Path(importlib.util.find_spec(command[2]).origin).read_text(), command
    assert env["JUPYTERHUB_SERVICE_URL"].startswith("http://0.0.0.0:8888")
    mounts = {m["mountPath"]: m for m in pod["containers"][0]["volumeMounts"]}
    assert mounts[env["ARENA_HUB_EXCHANGE_DIR"]]["readOnly"] is True  # it only looks at inbound/
    assert mounts[env["ARENA_HUB_DATA_DIR"]]["name"] == "course-data"
    assert jh["hub"]["loadRoles"]["arena-dashboard"]["services"] == ["arena-dashboard"]
    assert "access:services!service=arena-dashboard" in jh["hub"]["loadRoles"]["arena-grader"]["scopes"]
    assert not [d for d in render(chart) if d["metadata"]["name"] == "arena-dashboard"]


# ---------------------------------------------------------------------------------------------
# Zero-to-JupyterHub values: schema, profiles, exchange mounts, user pods

# Keys Zero-to-JupyterHub's own values.yaml always provides: a `required` error for one of them
# only says our overlay leaves it to the chart's defaults.
Z2JH_DEFAULTED = {
    (): {"imagePullSecrets", "hub", "proxy", "singleuser", "ingress", "prePuller", "custom", "cull",
         "debug", "rbac", "global"},
    ("singleuser", "storage"): {"type", "homeMountPath"},
}


@pytest.mark.parametrize("name", VALUE_SETS)
def test_jupyterhub_values_validate_against_the_z2jh_schema(name):
    schema = yaml.safe_load((CHART / "ci" / "z2jh-values.schema.yaml").read_text())
    jh = values(VALUE_SETS[name])["jupyterhub"]
    problems = []
    for error in jsonschema.Draft7Validator(schema).iter_errors(jh):
        if error.validator == "required":
            missing = re.match(r"'([^']+)' is a required property", error.message)[1]
            if missing in Z2JH_DEFAULTED.get(tuple(error.absolute_path), ()):
                continue
        problems.append(f"{'.'.join(map(str, error.absolute_path))}: {error.message}")
    assert problems == []
    # The check does bite: a misspelt key is refused.
    bad = deep_merge(jh, {"singleuser": {"profilelist": []}})
    assert any(e.validator == "additionalProperties" for e in jsonschema.Draft7Validator(schema).iter_errors(bad))


def z2jh_get_config(jh: dict):
    """Zero-to-JupyterHub's get_config(key, default) over our jupyterhub: values."""
    def get_config(key, default=None):
        node = jh
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node
    return get_config


def spawner_config(jh: dict):
    """The KubeSpawner config Zero-to-JupyterHub 4.x's jupyterhub_config.py makes of the values we
    set (home on a dynamic per-user claim, plus our extraVolumes / extraVolumeMounts, keyed
    dicts), then our hub.extraConfig snippets run as they would in the hub."""
    from traitlets.config import Config

    su = jh["singleuser"]
    c = Config()
    c.KubeSpawner.image = f"{su['image']['name']}:{su['image']['tag']}"
    c.KubeSpawner.uid, c.KubeSpawner.fs_gid = su["uid"], su["fsGid"]
    c.KubeSpawner.cpu_limit, c.KubeSpawner.cpu_guarantee = su["cpu"]["limit"], su["cpu"]["guarantee"]
    c.KubeSpawner.mem_limit, c.KubeSpawner.mem_guarantee = su["memory"]["limit"], su["memory"]["guarantee"]
    c.KubeSpawner.environment = dict(su["extraEnv"])
    c.KubeSpawner.default_url = su["defaultUrl"]
    c.KubeSpawner.tolerations = [  # scheduling.userPods.tolerations defaults
        {"key": key, "operator": "Equal", "value": "user", "effect": "NoSchedule"}
        for key in ("hub.jupyter.org/dedicated", "hub.jupyter.org_dedicated")]
    c.KubeSpawner.pvc_name_template = "claim-{user_server}"
    c.KubeSpawner.volumes = {"volume-{user_server}": {"name": "volume-{user_server}",
                                                      "persistentVolumeClaim": {"claimName": "{pvc_name}"}},
                             **su["storage"]["extraVolumes"]}
    c.KubeSpawner.volume_mounts = {"volume-{user_server}": {"name": "volume-{user_server}",
                                                            "mountPath": "/home/jovyan"},
                                   **su["storage"]["extraVolumeMounts"]}
    c.KubeSpawner.init_containers = su["initContainers"]
    c.KubeSpawner.profile_list = su["profileList"]
    scope = {"c": c, "get_config": z2jh_get_config(jh)}
    for _, snippet in sorted(jh["hub"]["extraConfig"].items()):
        exec(snippet, scope)
    return c


def hub_user(name, *groups):
    """What KubeSpawner and the profile filter read of jupyterhub.user.User."""
    return SimpleNamespace(name=name, id=7, url=f"/user/{name}/", escaped_name=name,
                           groups=[SimpleNamespace(name=g) for g in groups])


@pytest.fixture(scope="module")
def kubeconfig(tmp_path_factory):
    """KubeSpawner loads a client config when it is created; this one points at nothing (no call
    is made: building a pod manifest needs no API server)."""
    path = tmp_path_factory.mktemp("kube") / "config"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "none",
        "clusters": [{"name": "none", "cluster": {"server": "https://127.0.0.1:9"}}],
        "users": [{"name": "none", "user": {"token": "unused"}}],
        "contexts": [{"name": "none", "context": {"cluster": "none", "user": "none"}}]}))
    return path


def user_pod(kubeconfig, monkeypatch, jh, user, profile) -> dict:
    """The pod KubeSpawner would create for `user` choosing `profile` (None: the default)."""
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    from kubernetes_asyncio.client import ApiClient
    from kubespawner import KubeSpawner

    async def build():
        spawner = KubeSpawner(config=spawner_config(jh), user=user, _mock=True)
        try:
            spawner.user_options = {"profile": profile} if profile else {}
            await spawner.load_user_options()
            pod = await spawner.get_pod_manifest()  # kubespawner.objects.make_pod
            async with ApiClient() as api:
                return api.sanitize_for_serialization(pod)
        finally:
            await spawner.api.api_client.close()

    return asyncio.run(build())


def test_profiles_are_offered_by_hub_group():
    c = spawner_config(values()["jupyterhub"])
    offer = c.KubeSpawner.profile_list
    assert callable(offer)
    slugs = lambda *groups: [p["slug"] for p in offer(SimpleNamespace(user=hub_user("u", *groups)))]
    assert slugs("nbgrader-arena") == ["cpu"]
    assert slugs() == ["cpu"]
    assert slugs("nbgrader-arena", "arena-gpu") == ["cpu", "gpu"]
    assert slugs("formgrade-arena") == ["cpu", "gpu"]
    assert all("arena_groups" not in p for p in offer(SimpleNamespace(user=hub_user("u", "arena-gpu"))))


@pytest.mark.parametrize("name", ["default", "production"])
def test_user_pods_of_each_profile_are_valid(kubeconfig, monkeypatch, name):
    jh = values(VALUE_SETS[name])["jupyterhub"]
    cpu = user_pod(kubeconfig, monkeypatch, jh, hub_user("alice", "nbgrader-arena"), None)
    gpu = user_pod(kubeconfig, monkeypatch, jh, hub_user("Bob.Smith@uni.edu", "arena-gpu"), "gpu")
    for pod in (cpu, gpu):
        kubernetes_validate.validate(pod, K8S, strict=True)
    image = jh["singleuser"]["image"]
    assert cpu["spec"]["containers"][0]["image"] == f"{image['name']}:{image['tag']}"

    env = lambda pod: {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
    assert env(cpu)["ARENA_HUB_SIZE"] == "fast" and env(gpu)["ARENA_HUB_SIZE"] == "full"
    assert env(gpu)["ARENA_HUB_EXCHANGE_DIR"] == "/srv/nbgrader/exchange"

    # GPU: one nvidia.com/gpu, on the GPU pool, /dev/shm in memory; CPU: none of it.
    [main] = gpu["spec"]["containers"]
    assert main["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert gpu["spec"]["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    tolerations = gpu["spec"]["tolerations"]
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in tolerations
    assert {t["key"] for t in tolerations} >= {"hub.jupyter.org/dedicated", "hub.jupyter.org_dedicated"}
    shm = next(m for m in main["volumeMounts"] if m["mountPath"] == "/dev/shm")
    volume = next(v for v in gpu["spec"]["volumes"] if v["name"] == shm["name"])
    assert volume["emptyDir"]["medium"] == "Memory"
    assert "nvidia.com/gpu" not in cpu["spec"]["containers"][0]["resources"].get("limits", {})
    assert not cpu["spec"].get("nodeSelector")
    assert not any(m["mountPath"] == "/dev/shm" for m in cpu["spec"]["containers"][0]["volumeMounts"])

    # The exchange: released assignments read-only, the student's own inbound/ and feedback/.
    for pod, user in ((cpu, "alice"), (gpu, "Bob.Smith@uni.edu")):
        mounts = {m["mountPath"]: m for m in pod["spec"]["containers"][0]["volumeMounts"]
                  if m["mountPath"].startswith("/srv/nbgrader/exchange")}
        base = "/srv/nbgrader/exchange/arena"
        assert set(mounts) == {f"{base}/outbound", f"{base}/inbound", f"{base}/feedback"}
        assert mounts[f"{base}/outbound"] == {"name": "arena-exchange", "mountPath": f"{base}/outbound",
                                              "subPath": "arena/outbound", "readOnly": True}
        assert mounts[f"{base}/inbound"]["subPath"] == f"arena/inbound/{user}"
        assert not mounts[f"{base}/inbound"].get("readOnly")
        assert mounts[f"{base}/feedback"]["subPath"] == f"arena/feedback/{user}"
        assert mounts[f"{base}/feedback"]["readOnly"] is True
        claim = next(v for v in pod["spec"]["volumes"] if v["name"] == "arena-exchange")
        assert claim["persistentVolumeClaim"]["claimName"] == values(VALUE_SETS[name])["exchange"]["claimName"]
        # Only the init container sees the whole course exchange, to make the student's folders.
        [init] = [i for i in pod["spec"]["initContainers"] if i["name"] == "arena-exchange-folders"]
        assert init["command"][-1] == user and "$0" in init["command"][2]
        assert init["volumeMounts"] == [{"name": "arena-exchange", "mountPath": "/exchange", "subPath": "arena"}]
        assert init["image"] == pod["spec"]["containers"][0]["image"]
        main_uid = pod["spec"]["containers"][0]["securityContext"]["runAsUser"]
        assert init["securityContext"]["runAsUser"] == main_uid == 1000


def test_exchange_mount_values_expand_the_user_name():
    mounts = values()["jupyterhub"]["singleuser"]["storage"]["extraVolumeMounts"]
    assert mounts["arena-outbound"]["readOnly"] is True and "{" not in mounts["arena-outbound"]["subPath"]
    # {unescaped_username}: the hub name itself (JUPYTERHUB_USER, the student's nbgrader id);
    # JupyterHub refuses names with "/" and the names "." and "..", so it is one path segment.
    assert mounts["arena-inbound"]["subPath"] == "arena/inbound/{unescaped_username}"
    assert mounts["arena-feedback"]["subPath"] == "arena/feedback/{unescaped_username}"


def test_a_student_cannot_ask_for_the_gpu_profile(kubeconfig, monkeypatch):
    with pytest.raises(ValueError, match="No such profile: gpu. Options include: cpu$"):
        user_pod(kubeconfig, monkeypatch, values()["jupyterhub"], hub_user("carol", "nbgrader-arena"), "gpu")


# ---------------------------------------------------------------------------------------------
# GPU servers are culled first


def load_culler():
    spec = importlib.util.spec_from_file_location("gpu_culler", CHART / "files" / "gpu_culler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_culler_is_wired_into_the_hub(chart):
    docs = render(chart, PRODUCTION)
    jh = values(PRODUCTION)["jupyterhub"]
    files = one(docs, "ConfigMap", "arena-hub-hub-files")
    assert files["data"]["gpu_culler.py"] == (CHART / "files" / "gpu_culler.py").read_text()
    assert json.loads(files["data"]["gpu-culler.json"]) == {"enabled": True, "timeout": 900, "every": 60,
                                                             "profiles": ["gpu"]}
    [volume] = [v for v in jh["hub"]["extraVolumes"] if v["configMap"]["name"] == files["metadata"]["name"]]
    [mount] = [m for m in jh["hub"]["extraVolumeMounts"] if m["name"] == volume["name"]]
    command = jh["hub"]["services"]["arena-gpu-culler"]["command"]
    assert command[1:] == [f"{mount['mountPath']}/gpu_culler.py", f"{mount['mountPath']}/gpu-culler.json"]
    assert jh["hub"]["loadRoles"]["arena-gpu-culler"] == {
        "description": "List servers and stop idle GPU ones.",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["arena-gpu-culler"]}
    # Its profiles are GPU profiles, and it stops them before z2jh's culler stops anything.
    gpu_slugs = {p["slug"] for p in jh["singleuser"]["profileList"]
                 if "nvidia.com/gpu" in p.get("kubespawner_override", {}).get("extra_resource_limits", {})}
    assert set(values(PRODUCTION)["gpuCulling"]["profiles"]) == gpu_slugs == {"gpu"}
    assert jh["cull"]["enabled"] and values(PRODUCTION)["gpuCulling"]["timeoutSeconds"] < jh["cull"]["timeout"]


class FakeHub(JsonHandler):
    """The hub's REST API, paginated, with a few servers; records the DELETEs."""

    users: list = []
    deleted: list = []
    auth: set = set()

    def do_GET(self):
        self.auth.add(self.headers["Authorization"])
        query = parse_qs(urlparse(self.path).query)
        assert urlparse(self.path).path == "/hub/api/users" and query["state"] == ["ready"]
        offset = int(query["offset"][0])
        items = self.users[offset:offset + 2]  # two per page
        more = offset + 2 < len(self.users)
        self.send_json(200, {"items": items, "_pagination": {
            "offset": offset, "limit": 2, "total": len(self.users),
            "next": {"offset": offset + 2, "limit": 2, "url": "..."} if more else None}})

    def do_DELETE(self):
        self.deleted.append(urlparse(self.path).path)
        self.send_response(204)
        self.end_headers()


def test_gpu_culler_stops_only_idle_gpu_servers():
    culler = load_culler()

    now = culler.parse_time("2026-11-30T12:00:00Z")

    def server(profile, idle_min, ready=True, pending=None):
        seen = (now - timedelta(minutes=idle_min)).isoformat().replace("+00:00", "Z")
        return {"ready": ready, "pending": pending, "last_activity": seen,
                "started": "2026-11-30T08:00:00.000000Z",
                "user_options": {"profile": profile} if profile else {}}

    FakeHub.users = [
        {"name": "alice", "servers": {"": server("gpu", 30)}},              # idle GPU: stopped
        {"name": "bob", "servers": {"": server("gpu", 5)}},                 # busy GPU: kept
        {"name": "carol", "servers": {"": server("cpu", 120)}},             # CPU: z2jh's culler's
        {"name": "dave", "servers": {"": server(None, 120)}},               # no profile: kept
        {"name": "erin@uni.edu", "servers": {"train": server("gpu", 45)}},  # named server
        {"name": "frank", "servers": {"": server("gpu", 90, ready=False, pending="stop")}},
    ]
    FakeHub.deleted, FakeHub.auth = [], set()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeHub)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        hub = culler.Hub(f"http://127.0.0.1:{httpd.server_address[1]}/hub/api/", "secret")
        stopped = culler.cull_once(hub, ["gpu"], timeout=20 * 60, now=now)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert stopped == ["alice/", "erin@uni.edu/train"]
    assert FakeHub.deleted == ["/hub/api/users/alice/server", "/hub/api/users/erin%40uni.edu/servers/train"]
    assert FakeHub.auth == {"token secret"}
