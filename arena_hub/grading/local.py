"""The local backend: grading runs as confined child processes of this host.

Each job is forked from this (already imported) process, so a run costs no interpreter or
nbgrader start-up. The child joins the job's cgroup (memory, process count), starts a new
session, enters private mount and network namespaces (source/, the gradebook, other runs and
the rest of the course hidden; loopback only), sets resource limits, and runs nbgrader's
Autograde; the kernel it starts runs under a uid of its own (see ``kernel``).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from ..course import Layout
from . import runner, sandbox, zygote
from .job import GradingJob

KERNEL_UID_BASE = 61000  # one uid per worker slot, so concurrent runs cannot read each other


@dataclass
class Outcome:
    job: GradingJob
    ok: bool
    reason: str = ""
    seconds: float = 0.0
    work: Path | None = None


def failure_reason(job: GradingJob, *, timed_out: bool = False, oom: bool = False,
                   log: list[str] = (), exit_code=None) -> str:
    """What a student and the instructor read about a run that did not finish (every backend)."""
    if timed_out:
        return f"stopped after the {job.timeout_seconds}s time limit of the whole notebook (an endless loop?)"
    if oom:
        return f"ran out of memory (limit {job.memory_mib} MiB) and was stopped"
    if any("DeadKernelError" in line or "kernel died" in line.lower() for line in log):
        return ("the notebook's kernel died (it exited, was killed, or hit the memory limit "
                f"of {job.memory_mib} MiB)")
    errors = [line.strip() for line in log if "ERROR" in line or "failed" in line]
    return errors[-1] if errors else f"the grading run exited with code {exit_code}"


@dataclass
class _Running:
    job: GradingJob
    pid: int
    slot: int
    work: Path
    started: float
    cgroup: sandbox.JobCgroup | None
    timed_out: bool = False


@dataclass
class LocalBackend:
    layout: Layout
    workers: int = 2
    work_root: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "arena-hub-grading")
    caps: sandbox.Capabilities = field(default_factory=sandbox.capabilities)
    extra_hidden: list[Path] = field(default_factory=list)
    # Fork kernels from a zygote that imported these once (see ``zygote``); needs root,
    # cgroups and namespaces (the warm kernel must take on each run's confinement).
    warm_imports: tuple[str, ...] | None = zygote.DEFAULT_IMPORTS
    zygote: subprocess.Popen | None = field(default=None, init=False, repr=False)
    _grader_pid: int = field(default_factory=os.getpid, init=False, repr=False)

    def describe(self) -> str:
        return f"local backend with {self.workers} worker(s) [{self.caps.describe()}]"

    def template_dir(self, assignment_id: str) -> Path:
        # One per grader process: two graders of the same day must not share (or delete) it.
        return self.work_root / f"template-{assignment_id}-{os.getpid()}"

    def hidden_paths(self) -> list[Path]:
        from ..hub import INSTALL_ROOT

        # The course, its runtime state, this checkout (tests and git history hold solutions),
        # scratch space and home folders; kept_paths() brings back what the run needs.
        return [self.layout.course_root, self.layout.data_dir, INSTALL_ROOT,
                Path(tempfile.gettempdir()), Path("/root"), Path("/home"), Path.home(),
                *self.extra_hidden]

    def kept_paths(self, work: Path) -> list[Path]:
        from ..hub import INSTALL_ROOT

        return [Path(sys.prefix), INSTALL_ROOT / "arena_hub", work, self.zygote_dir]

    @property
    def zygote_dir(self) -> Path:
        return self.work_root / f"zygote-{self._grader_pid}"

    def _start_zygote(self) -> subprocess.Popen | None:
        c = self.caps
        if not (self.warm_imports and c.root and c.cgroups and c.namespaces):
            return None
        self.zygote_dir.mkdir(mode=0o700, exist_ok=True)
        # What imports may read (thread counts); each kernel gets its run's full environment.
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG")}
        env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONNOUSERSITE="1",
                   PYTHONDONTWRITEBYTECODE="1", HOME=str(self.zygote_dir), MPLBACKEND="Agg")
        log = open(self.zygote_dir / "zygote.log", "w")
        proc = subprocess.Popen([sys.executable, "-m", "arena_hub.grading.zygote",
                                 str(self.zygote_dir / "sock"), *self.warm_imports],
                                cwd="/", env=env, stdout=subprocess.PIPE, stderr=log,
                                stdin=subprocess.DEVNULL, text=True)
        log.close()
        if proc.stdout.readline().strip() != "ready":  # it failed: cold kernels, as before
            proc.wait()
            return None
        return proc

    def _stop_zygote(self, proc: subprocess.Popen | None) -> None:
        if proc:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.zygote_dir, ignore_errors=True)

    # ------------------------------------------------------------------------------------------

    def _start(self, job: GradingJob, slot: int, submission: Path, release_dir: Path,
               template_db: Path) -> _Running:
        work = self.work_root / job.id
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        kernel_uid = KERNEL_UID_BASE + slot if self.caps.root else None
        runner.prepare(work, job, submission, release_dir, template_db, kernel_uid)
        cg = None
        if self.caps.cgroups:
            cg = sandbox.JobCgroup(f"{job.id}-{os.getpid()}", job.memory_mib, job.max_pids)
        log = os.open(work / "grading.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        # Worked out here, not in the child: each fresh import there costs every run (~0.7 s).
        hide, keep = self.hidden_paths(), self.kept_paths(work)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: confine, then grade
            rc = 70
            try:
                os.dup2(log, 1)
                os.dup2(log, 2)
                # Python-level streams may point elsewhere (a test runner's capture): rebind.
                sys.stdout = open(1, "w", buffering=1, closefd=False)
                sys.stderr = open(2, "w", buffering=1, closefd=False)
                os.setsid()
                if cg:
                    cg.join()
                if self.caps.namespaces:
                    sandbox.enter_namespaces(hide, keep)
                sandbox.set_limits(job.max_file_mib)
                os.environ.clear()
                os.environ.update(runner.environment(work, job))
                if self.zygote:
                    os.environ["ARENA_HUB_ZYGOTE"] = str(self.zygote_dir / "sock")
                os.chdir(work)
                rc = runner.autograde(work, job, kernel_uid)
            except BaseException as e:  # noqa: BLE001 -- report anything, then exit
                print(f"grading run failed: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
            finally:
                os._exit(rc)
        os.close(log)
        return _Running(job, pid, slot, work, time.monotonic(), cg)

    def _kill(self, run: _Running) -> None:
        if run.cgroup:
            run.cgroup.kill_all()
            return
        # No cgroups: the run's process group, and every descendant we can still find (kernels
        # start in sessions of their own).
        try:
            tree = psutil.Process(run.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            tree = []
        for proc in tree:
            try:
                proc.kill()
            except psutil.Error:
                pass
        try:
            os.killpg(run.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _finish(self, run: _Running, status: int) -> Outcome:
        self._kill(run)  # the kernel and anything the student started die with the run
        seconds = time.monotonic() - run.started
        oom = run.cgroup.oom_killed() if run.cgroup else False
        if run.cgroup:
            run.cgroup.remove()
        code = os.waitstatus_to_exitcode(status)
        with open(run.work / "grading.log", errors="replace") as f:
            log = f.read(8_000_000).splitlines()  # bounded by RLIMIT_FSIZE anyway
        if code == 0 and not run.timed_out:
            return Outcome(run.job, True, "", seconds, run.work)
        reason = failure_reason(run.job, timed_out=run.timed_out, oom=oom, log=log, exit_code=code)
        return Outcome(run.job, False, reason, seconds, run.work)

    def run(self, jobs: list[GradingJob], inputs, on_start=None, on_done=None) -> list[Outcome]:
        """Grade ``jobs``; ``inputs(job) -> (submission_dir, release_dir, template_db)``."""
        runner.preload()  # every run is forked from here: import nbgrader & co. once, not per run
        if self.caps.cgroups:
            sandbox.JobCgroup.sweep()  # what an earlier, killed grader left behind
        self._grader_pid = os.getpid()  # not a forked run's: they all use this zygote
        self.zygote = self._start_zygote()
        self.work_root.mkdir(parents=True, exist_ok=True)
        self.work_root.chmod(0o711)
        # Orphans of a run (a student's forks whose parent died) are re-parented to us and
        # reaped by the waitpid below, instead of lingering as zombies.
        sandbox.set_child_subreaper(True)
        queue = list(jobs)
        running: dict[int, _Running] = {}
        free = list(range(self.workers))
        outcomes = []
        try:
            while queue or running:
                while queue and free:
                    job = queue.pop(0)
                    run = self._start(job, free.pop(0), *inputs(job))
                    running[run.pid] = run
                    if on_start:
                        on_start(job)
                pid, status = os.waitpid(-1, os.WNOHANG)
                if pid in running:
                    run = running.pop(pid)
                    free.append(run.slot)
                    outcome = self._finish(run, status)
                    outcomes.append(outcome)
                    if on_done:
                        on_done(outcome)
                    continue
                now = time.monotonic()
                for run in running.values():
                    if not run.timed_out and now - run.started > run.job.timeout_seconds:
                        run.timed_out = True
                        self._kill(run)
                time.sleep(0.05)
        finally:
            for run in running.values():  # interrupted: leave nothing behind
                self._kill(run)
                os.waitpid(run.pid, 0)
                if run.cgroup:
                    run.cgroup.remove()
            sandbox.set_child_subreaper(False)
            self._stop_zygote(self.zygote)
            self.zygote = None
            if self.caps.cgroups:
                sandbox.JobCgroup.sweep()
            while True:  # reap what is left
                try:
                    if os.waitpid(-1, os.WNOHANG)[0] == 0:
                        break
                except ChildProcessError:
                    break
        return outcomes
