"""The kubernetes backend: one ``batch/v1`` Job per submission.

Manifests are built by pure functions (``job_manifest``), unit-tested without a cluster and
validated against the Kubernetes schema. ``KubernetesBackend`` submits Jobs through the official
``kubernetes`` client, watches them and collects their results from the course data volume
(a ReadWriteMany claim the hub and the grading pods share).

Inside the pod the container starts as root with only the capabilities needed to hand the
student's kernel a uid of its own (as the local backend does); the pod has no service-account
token, no service links, and (with the chart's NetworkPolicy) no egress.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from traitlets import Dict, Integer, List, Unicode
from traitlets.config import Configurable

from .job import GradingJob, launcher_trait, ranks_launcher
from .local import Outcome, failure_reason

LABEL_PREFIX = "arena-hub.org"


class KubernetesSettings(Configurable):
    """Where and how grading Jobs run on a cluster (Helm values set these)."""

    namespace = Unicode("arena-grading", help="Namespace of grading Jobs.").tag(config=True)
    image = Unicode("arena-hub-grader:latest", help="The grader image.").tag(config=True)
    image_pull_policy = Unicode("IfNotPresent", help="imagePullPolicy of the grader container.").tag(config=True)
    data_claim = Unicode(
        "arena-course-data",
        help="PersistentVolumeClaim (ReadWriteMany) holding the course data directory.",
    ).tag(config=True)
    ttl_seconds_after_finished = Integer(
        3600, help="Finished Jobs are deleted by Kubernetes after this many seconds."
    ).tag(config=True)
    gpu_node_selector = Dict(
        {}, help="nodeSelector of Jobs that ask for GPUs (the GPU node pool)."
    ).tag(config=True)
    gpu_tolerations = List(
        [], help="Tolerations of Jobs that ask for GPUs (the GPU pool's taints)."
    ).tag(config=True)
    cpu_node_selector = Dict({}, help="nodeSelector of CPU-only Jobs.").tag(config=True)
    kueue_queue = Unicode(
        "", help="If set, the Kueue LocalQueue the Jobs are submitted to (label kueue.x-k8s.io/queue-name)."
    ).tag(config=True)
    poll_seconds = Integer(2, help="How often Job status is read.").tag(config=True)
    ranks_launcher = launcher_trait()


def _label(value: str) -> str:
    """A valid label value: at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends."""
    value = re.sub(r"[^A-Za-z0-9._-]", "-", value)[:63]
    return value.strip("-_.") or "x"


def job_name(job: GradingJob) -> str:
    """DNS-1123 name, at most 63 characters, unique per assignment, student and submission."""
    digest = hashlib.sha256(f"{job.assignment_id}\0{job.student_id}\0{job.timestamp}".encode()).hexdigest()[:10]
    student = re.sub(r"[^a-z0-9-]", "-", job.student_id.lower()).strip("-")[:20] or "s"
    return f"grade-{job.assignment_id}"[:30].rstrip("-") + f"-{student}-{digest}"


def results_subpath(job: GradingJob) -> str:
    return f"runtime/grading/results/{job_name(job)}"


def job_manifest(job: GradingJob, settings: KubernetesSettings) -> dict:
    """The ``batch/v1`` Job that grades one submission (pure: same input, same manifest)."""
    name = job_name(job)
    labels = {
        "app.kubernetes.io/name": "arena-hub-grader",
        "app.kubernetes.io/component": "grading",
        f"{LABEL_PREFIX}/assignment": _label(job.assignment_id),
        f"{LABEL_PREFIX}/student": _label(job.student_id),
    }
    if settings.kueue_queue:
        labels["kueue.x-k8s.io/queue-name"] = settings.kueue_queue
    limits = {"cpu": str(job.cpus), "memory": f"{job.memory_mib}Mi"}
    if job.gpus:
        limits["nvidia.com/gpu"] = str(job.gpus)
    pod_spec = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "containers": [{
            "name": "grader",
            "image": job.image or settings.image,
            "imagePullPolicy": settings.image_pull_policy,
            "command": ["python", "-m", "arena_hub.grading.pod"],
            "env": [
                {"name": "ARENA_HUB_JOB", "value": job.to_json()},
                {"name": "ARENA_HUB_SIZE", "value": "fast"},
                {"name": "ARENA_HUB_DATA", "value": "offline"},
                {"name": "ARENA_HUB_WORLD_SIZE", "value": str(job.world_size)},
                {"name": "ARENA_HUB_LAUNCHER", "value": ranks_launcher(job, settings.ranks_launcher)},
            ],
            "resources": {"requests": dict(limits), "limits": dict(limits)},
            "securityContext": {
                "runAsUser": 0,
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"], "add": ["SETUID", "SETGID", "CHOWN", "DAC_OVERRIDE", "KILL"]},
            },
            "volumeMounts": [
                {"name": "course-data", "mountPath": "/submission", "readOnly": True,
                 "subPath": f"submitted/{job.student_id}/{job.assignment_id}"},
                {"name": "course-data", "mountPath": "/template", "readOnly": True,
                 "subPath": f"runtime/grading/templates/{job.assignment_id}"},
                {"name": "course-data", "mountPath": "/results", "subPath": results_subpath(job)},
                {"name": "work", "mountPath": "/work"},
                {"name": "shm", "mountPath": "/dev/shm"},
            ],
        }],
        "volumes": [
            {"name": "course-data", "persistentVolumeClaim": {"claimName": settings.data_claim}},
            {"name": "work", "emptyDir": {"sizeLimit": f"{4 * job.max_file_mib}Mi"}},
            {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}},
        ],
    }
    if job.gpus:
        if settings.gpu_node_selector:
            pod_spec["nodeSelector"] = dict(settings.gpu_node_selector)
        if settings.gpu_tolerations:
            pod_spec["tolerations"] = [dict(t) for t in settings.gpu_tolerations]
    elif settings.cpu_node_selector:
        pod_spec["nodeSelector"] = dict(settings.cpu_node_selector)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": settings.namespace, "labels": labels},
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": job.timeout_seconds,
            "ttlSecondsAfterFinished": settings.ttl_seconds_after_finished,
            # Kueue admits a suspended Job when its quota allows; without Kueue it starts now.
            "suspend": bool(settings.kueue_queue),
            "template": {"metadata": {"labels": dict(labels)}, "spec": pod_spec},
        },
    }


@dataclass
class KubernetesBackend:
    """Submits, watches and collects grading Jobs; same interface as ``LocalBackend``."""

    data_dir: Path
    settings: KubernetesSettings = field(default_factory=KubernetesSettings)
    api_client: object = None  # a kubernetes.client.ApiClient; default: in-cluster config
    workers: int = 8  # Jobs in flight at once (the cluster and Kueue schedule them)

    def describe(self) -> str:
        return f"kubernetes backend (namespace {self.settings.namespace}, up to {self.workers} Jobs at once)"

    def template_dir(self, assignment_id: str) -> Path:
        # One per grader process (a pid alone may repeat across pods).
        name = f"{assignment_id}-{socket.gethostname()}-{os.getpid()}"
        return self.data_dir / "runtime" / "grading" / "templates" / name

    def _batch(self):
        from kubernetes import client, config

        if self.api_client is None:
            config.load_incluster_config()
            self.api_client = client.ApiClient()
        return client.BatchV1Api(self.api_client), client.CoreV1Api(self.api_client)

    def _status(self, batch, name) -> str:
        job = batch.read_namespaced_job_status(name, self.settings.namespace)
        st = job.status
        for cond in st.conditions or []:
            if cond.status == "True" and cond.type in ("Complete", "Failed"):
                return "succeeded" if cond.type == "Complete" else f"failed: {cond.reason or ''} {cond.message or ''}".strip()
        if st.succeeded:
            return "succeeded"
        if st.failed:
            return "failed"
        return "running"

    def _logs(self, core, name) -> str:
        pods = core.list_namespaced_pod(self.settings.namespace, label_selector=f"job-name={name}")
        if not pods.items:
            return ""
        return core.read_namespaced_pod_log(pods.items[0].metadata.name, self.settings.namespace,
                                            tail_lines=50) or ""

    def run(self, jobs: list[GradingJob], inputs=None, on_start=None, on_done=None) -> list[Outcome]:
        from kubernetes.client.exceptions import ApiException

        batch, core = self._batch()
        queue, running, outcomes = list(jobs), {}, []
        while queue or running:
            while queue and len(running) < self.workers:
                job = queue.pop(0)
                name = job_name(job)
                try:
                    batch.create_namespaced_job(self.settings.namespace, job_manifest(job, self.settings))
                except ApiException as e:
                    if e.status != 409:  # 409: already submitted by an earlier, interrupted run
                        raise
                running[name] = (job, time.monotonic())
                if on_start:
                    on_start(job)
            for name, (job, started) in list(running.items()):
                status = self._status(batch, name)
                if status == "running":
                    continue
                del running[name]
                work = self.data_dir / results_subpath(job)
                if status == "succeeded" and (work / "course" / "gradebook.db").exists():
                    outcome = Outcome(job, True, "", time.monotonic() - started, work)
                else:
                    log = self._logs(core, name).strip().splitlines()[-30:]
                    reason = failure_reason(job, timed_out="DeadlineExceeded" in status,
                                            oom="OOMKilled" in status, log=log, exit_code=status)
                    if log and log[-1] not in reason:  # the pod's last word, for the instructor
                        reason += f" ({log[-1]})"
                    outcome = Outcome(job, False, reason, time.monotonic() - started, work)
                batch.delete_namespaced_job(name, self.settings.namespace, propagation_policy="Background")
                outcomes.append(outcome)
                if on_done:
                    on_done(outcome)
            if running:
                time.sleep(self.settings.poll_seconds)
        return outcomes
