"""The kubernetes backend: Job manifests (pure functions, schema-validated) and the client flow.

No Kubernetes API server can run on these machines. The manifests are validated against the
official schema for 1.32 (kubernetes-validate, strict); submit / watch / collect runs the
official `kubernetes` client against a small fake API server on loopback (its HTTP boundary).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import replace
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import kubernetes_validate
import pytest

from arena_hub.grading.job import GradingJob
from arena_hub.grading.kubernetes import (KubernetesBackend, KubernetesSettings, job_manifest, job_name,
                                          results_subpath)
from tests.helpers import JsonHandler

JOB = GradingJob("c3d2-distributed", "Alice.O'Brien+x", "2026-11-30 10:00:00.000000 UTC",
                 cpus=2, memory_mib=3072, gpus=0, world_size=1, timeout_seconds=225)
GPU_JOB = replace(JOB, gpus=2, world_size=2)
SETTINGS = KubernetesSettings(
    gpu_node_selector={"cloud.google.com/gke-accelerator": "nvidia-h100-80gb"},
    gpu_tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
)


@pytest.mark.parametrize("job, settings", [
    (JOB, KubernetesSettings()),
    (GPU_JOB, SETTINGS),
    (GPU_JOB, KubernetesSettings(kueue_queue="grading-gpu")),
])
def test_manifests_pass_strict_schema_validation(job, settings):
    kubernetes_validate.validate(job_manifest(job, settings), "1.32.0", strict=True)


def test_job_manifest_fields():
    m = job_manifest(JOB, SETTINGS)
    spec, pod = m["spec"], m["spec"]["template"]["spec"]
    assert (spec["backoffLimit"], spec["activeDeadlineSeconds"], spec["ttlSecondsAfterFinished"]) == (0, 225, 3600)
    assert pod["automountServiceAccountToken"] is False and pod["restartPolicy"] == "Never"
    limits = pod["containers"][0]["resources"]["limits"]
    assert limits == {"cpu": "2", "memory": "3072Mi"} and "nodeSelector" not in pod and "tolerations" not in pod
    assert spec["suspend"] is False and "kueue.x-k8s.io/queue-name" not in m["metadata"]["labels"]
    env = {e["name"]: e["value"] for e in pod["containers"][0]["env"]}
    assert GradingJob.from_json(env["ARENA_HUB_JOB"]) == JOB
    mounts = {v["mountPath"]: v for v in pod["containers"][0]["volumeMounts"]}
    assert mounts["/submission"]["readOnly"] and mounts["/submission"]["subPath"] == \
        f"submitted/{JOB.student_id}/{JOB.assignment_id}"
    assert mounts["/results"]["subPath"] == results_subpath(JOB)


def test_gpu_jobs_go_to_the_gpu_pool():
    pod = job_manifest(GPU_JOB, SETTINGS)["spec"]["template"]["spec"]
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "2"
    assert pod["nodeSelector"] == SETTINGS.gpu_node_selector and pod["tolerations"] == SETTINGS.gpu_tolerations
    env = {e["name"]: e["value"] for e in pod["containers"][0]["env"]}
    assert env["ARENA_HUB_WORLD_SIZE"] == "2" and env["ARENA_HUB_LAUNCHER"] == "torchrun"
    cpu_env = {e["name"]: e["value"] for e in job_manifest(JOB, SETTINGS)["spec"]["template"]["spec"]
               ["containers"][0]["env"]}
    assert cpu_env["ARENA_HUB_LAUNCHER"] == "fork"


def test_kueue_queue_label_suspends_until_admitted():
    m = job_manifest(JOB, KubernetesSettings(kueue_queue="grading"))
    assert m["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "grading" and m["spec"]["suspend"] is True


def test_names_and_labels_are_valid_and_stable():
    long = replace(JOB, student_id="x" * 200)
    for job in (JOB, long, GPU_JOB):
        name = job_name(job)
        assert len(name) <= 63 and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name), name
        for value in job_manifest(job, SETTINGS)["metadata"]["labels"].values():
            assert len(value) <= 63 and re.fullmatch(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?", value)
    assert job_name(JOB) != job_name(replace(JOB, timestamp="later"))
    assert job_manifest(JOB, SETTINGS) == job_manifest(JOB, SETTINGS)


class FakeAPI(JsonHandler):
    """Just the Kubernetes REST calls the backend makes, recorded."""

    jobs: dict = {}
    calls: list = []
    polls_before_done = 2

    def _send(self, code, body):
        self.send_json(code, body)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.calls.append(("POST", urlparse(self.path).path, body))
        name = body["metadata"]["name"]
        if name in self.jobs:
            return self._send(409, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 409,
                                    "reason": "AlreadyExists"})
        self.jobs[name] = {"manifest": body, "polls": 0}
        self._send(201, body)

    def do_GET(self):
        url = urlparse(self.path)
        self.calls.append(("GET", url.path, parse_qs(url.query)))
        if m := re.fullmatch(r"/apis/batch/v1/namespaces/([^/]+)/jobs/([^/]+)/status", url.path):
            job = self.jobs[m.group(2)]
            job["polls"] += 1
            status = {}
            if job["polls"] > self.polls_before_done:
                failing = "slow" in m.group(2)
                status = {"conditions": [{"type": "Failed" if failing else "Complete", "status": "True",
                                          "reason": "DeadlineExceeded" if failing else None}],
                          "failed" if failing else "succeeded": 1}
            return self._send(200, {**job["manifest"], "status": status})
        if re.fullmatch(r"/api/v1/namespaces/[^/]+/pods", url.path):
            sel = parse_qs(url.query)["labelSelector"][0].split("=")[1]
            return self._send(200, {"kind": "PodList", "apiVersion": "v1", "metadata": {},
                                    "items": [{"metadata": {"name": f"{sel}-abcde"}}]})
        if re.fullmatch(r"/api/v1/namespaces/[^/]+/pods/[^/]+/log", url.path):
            data = b"grading: killed at the deadline\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            return self.wfile.write(data)
        self._send(404, {"kind": "Status", "apiVersion": "v1", "code": 404})

    def do_DELETE(self):
        self.calls.append(("DELETE", urlparse(self.path).path, None))
        self._send(200, {"kind": "Status", "apiVersion": "v1", "status": "Success"})


@pytest.fixture
def fake_api():
    FakeAPI.jobs, FakeAPI.calls = {}, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeAPI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_submit_watch_collect_through_the_official_client(fake_api, tmp_path):
    from kubernetes import client

    cfg = client.Configuration(host=fake_api)
    settings = KubernetesSettings(namespace="grading", poll_seconds=0)
    backend = KubernetesBackend(tmp_path, settings, client.ApiClient(cfg), workers=2)
    ok, slow = JOB, replace(JOB, student_id="slow", timestamp="t2")
    # The pod of `ok` leaves its results on the shared data volume.
    (tmp_path / results_subpath(ok) / "course").mkdir(parents=True)
    (tmp_path / results_subpath(ok) / "course" / "gradebook.db").write_bytes(b"")
    started, done = [], []
    outcomes = backend.run([ok, slow], on_start=started.append, on_done=done.append)

    by_student = {o.job.student_id: o for o in outcomes}
    assert by_student[ok.student_id].ok
    bad = by_student["slow"]
    assert not bad.ok and "time limit" in bad.reason and "killed at the deadline" in bad.reason
    posts = [c for c in FakeAPI.calls if c[0] == "POST"]
    assert [p[1] for p in posts] == ["/apis/batch/v1/namespaces/grading/jobs"] * 2
    assert posts[0][2] == job_manifest(ok, settings)
    deletes = sorted(c[1] for c in FakeAPI.calls if c[0] == "DELETE")
    assert deletes == sorted(f"/apis/batch/v1/namespaces/grading/jobs/{job_name(j)}" for j in (ok, slow))
    assert len(started) == 2 and len(done) == 2


def test_resubmitting_an_existing_job_is_not_an_error(fake_api, tmp_path):
    from kubernetes import client

    settings = KubernetesSettings(namespace="grading", poll_seconds=0)
    FakeAPI.jobs[job_name(JOB)] = {"manifest": job_manifest(JOB, settings), "polls": 0}
    backend = KubernetesBackend(tmp_path, settings, client.ApiClient(client.Configuration(host=fake_api)))
    [outcome] = backend.run([JOB])
    assert not outcome.ok  # no results on the volume: reported, not crashed
