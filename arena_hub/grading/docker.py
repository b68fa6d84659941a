"""The docker backend: one container per submission, through the Docker engine's CLI.

The container runs the same entry point as a kubernetes Job (``arena_hub.grading.pod``) with
``--network none``, memory / CPU / process limits, all capabilities dropped but those needed to
give the student's kernel a uid of its own, the submission, template gradebook and released
files mounted read-only, and GPUs through device requests when the assignment asks for them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from traitlets import Integer, List, Unicode
from traitlets.config import Configurable

from .job import GradingJob, launcher_trait, ranks_launcher
from .kubernetes import job_name
from .local import Outcome, failure_reason


class DockerSettings(Configurable):
    """How grading containers are started (hub_config sets these on a GPU server)."""

    image = Unicode("arena-hub-grader:latest", help="The grader image.").tag(config=True)
    python = Unicode("python", help="The grader image's Python (with the course stack).").tag(config=True)
    docker = Unicode("docker", help="The docker CLI; DOCKER_HOST selects the engine.").tag(config=True)
    extra_mounts = List(
        Unicode(), [], help="Extra -v mounts (host:container[:ro]), e.g. a course stack for tests."
    ).tag(config=True)
    gpu_ids = List(
        Unicode(), [], help="GPU ids grading may use; jobs asking for N GPUs get N of them."
    ).tag(config=True)
    work_size_mib = Integer(512, help="Size of the container's private /work tmpfs.").tag(config=True)
    ranks_launcher = launcher_trait()


def run_args(job: GradingJob, settings: DockerSettings, *, name: str, submission: Path,
             template_dir: Path, release_dir: Path, results: Path, gpu_ids: list[str] = ()) -> list[str]:
    """The ``docker run`` arguments for one job (pure: unit-tested without an engine)."""
    args = [
        "run", "--detach", "--name", name,
        "--network", "none",
        "--memory", f"{job.memory_mib}m", "--memory-swap", f"{job.memory_mib}m",
        "--cpus", str(job.cpus), "--pids-limit", str(job.max_pids),
        "--ulimit", f"fsize={job.max_file_mib * 1024 * 1024}",
        "--cap-drop", "ALL", "--cap-add", "SETUID", "--cap-add", "SETGID",
        "--cap-add", "CHOWN", "--cap-add", "DAC_OVERRIDE", "--cap-add", "KILL",
        "--security-opt", "no-new-privileges",
        "--read-only",  # writable only: the private /work and /tmp tmpfs, and /results
        "--tmpfs", f"/work:size={settings.work_size_mib}m,mode=755",
        "--tmpfs", "/tmp:size=256m,mode=1777",
        "--label", "app.kubernetes.io/name=arena-hub-grader",
        "--env", f"ARENA_HUB_JOB={job.to_json()}",
        "--env", f"ARENA_HUB_WORLD_SIZE={job.world_size}",
        "--env", f"ARENA_HUB_LAUNCHER={ranks_launcher(job, settings.ranks_launcher)}",
        "--volume", f"{submission}:/submission:ro",
        "--volume", f"{template_dir}:/template:ro",
        "--volume", f"{release_dir}:/course/release/{job.assignment_id}:ro",
        "--volume", f"{results}:/results",
    ]
    for mount in settings.extra_mounts:
        args += ["--volume", mount]
    if job.gpus:
        args += ["--gpus", f'"device={",".join(gpu_ids)}"']
    return args + [job.image or settings.image, settings.python, "-m", "arena_hub.grading.pod"]


@dataclass
class DockerBackend:
    settings: DockerSettings = field(default_factory=DockerSettings)
    workers: int = 2
    work_root: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "arena-hub-grading")
    env: dict | None = None  # environment of the docker CLI (DOCKER_HOST)

    def describe(self) -> str:
        return f"docker backend with {self.workers} container(s) at once (image {self.settings.image})"

    def template_dir(self, assignment_id: str) -> Path:
        return self.work_root / f"template-{assignment_id}-{os.getpid()}"  # one per grader

    def _docker(self, *args, check=False) -> subprocess.CompletedProcess:
        return subprocess.run([self.settings.docker, *args], capture_output=True, text=True,
                              env=self.env, check=check)

    def _state(self, name: str) -> dict:
        out = self._docker("inspect", "--format", "{{json .State}}", name)
        return json.loads(out.stdout) if out.returncode == 0 else {"Status": "missing"}

    def run(self, jobs: list[GradingJob], inputs, on_start=None, on_done=None) -> list[Outcome]:
        have = len(self.settings.gpu_ids)
        # A job asking for more GPUs than this backend has would wait forever: refuse it now.
        outcomes = [Outcome(job, False, f"the day's grading needs {job.gpus} GPU(s) and the docker backend has "
                                        f"{have} (arena-hub grade --gpu-ids 0,1,...)")
                    for job in jobs if job.gpus > have]
        for outcome in outcomes:
            if on_done:
                on_done(outcome)
        queue, running = [job for job in jobs if job.gpus <= have], {}
        free_gpus = list(self.settings.gpu_ids)
        try:
            while queue or running:
                while queue and len(running) < self.workers and (not queue[0].gpus or len(free_gpus) >= queue[0].gpus):
                    job = queue.pop(0)
                    name = job_name(job)
                    gpus = [free_gpus.pop(0) for _ in range(job.gpus)]
                    work = self.work_root / job.id
                    if work.exists():
                        shutil.rmtree(work)
                    results = work / "results"
                    results.mkdir(parents=True)
                    results.chmod(0o700)  # root in the container writes; the kernel's uid cannot
                    submission, release_dir, template = inputs(job)
                    self._docker("rm", "-f", name)
                    started = self._docker(*run_args(job, self.settings, name=name, submission=submission,
                                                     template_dir=template.parent, release_dir=release_dir,
                                                     results=results, gpu_ids=gpus))
                    running[name] = (job, time.monotonic(), results, gpus, started)
                    if on_start:
                        on_start(job)
                for name, (job, t0, results, gpus, started) in list(running.items()):
                    state = self._state(name) if started.returncode == 0 else {"Status": "exited", "ExitCode": -1}
                    timed_out = time.monotonic() - t0 > job.timeout_seconds
                    if state.get("Status") in ("running", "created") and not timed_out:
                        continue
                    if timed_out:
                        self._docker("kill", name)
                    logs = self._docker("logs", "--tail", "30", name)
                    tail = (logs.stdout + logs.stderr).strip().splitlines()
                    self._docker("rm", "-f", name)
                    del running[name]
                    free_gpus += gpus
                    seconds = time.monotonic() - t0
                    if started.returncode != 0:
                        outcome = Outcome(job, False, f"the container did not start: {started.stderr.strip()}", seconds)
                    elif state.get("ExitCode") == 0 and not timed_out:
                        outcome = Outcome(job, True, "", seconds, results)
                    else:
                        outcome = Outcome(job, False, failure_reason(
                            job, timed_out=timed_out, oom=bool(state.get("OOMKilled")), log=tail,
                            exit_code=state.get("ExitCode")), seconds, results)
                    outcomes.append(outcome)
                    if on_done:
                        on_done(outcome)
                if running:
                    time.sleep(0.2)
        finally:
            for name in running:  # interrupted: leave no container behind
                self._docker("rm", "-f", name)
        return outcomes
