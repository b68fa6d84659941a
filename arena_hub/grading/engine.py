"""The grading command: plan jobs, run them on a backend, land results in the gradebook.

State per submission lives in ``runtime/grading/<id>/<student>.json`` and is written only after
the results are in the gradebook, so a crash midway loses nothing: the next run grades what is
left, and a submission already graded at the same timestamp is skipped (``force`` regrades).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from ..course import Layout
from . import gradebook
from .job import GradingJob, plan
from .local import LocalBackend, Outcome


@dataclass
class Report:
    graded: list[Outcome]
    skipped: list[GradingJob]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.graded if not o.ok]


class Progress:
    """One line per finished submission, and a running tally with an ETA."""

    def __init__(self, total: int, workers: int, stream=sys.stdout):
        self.total, self.workers, self.stream = total, workers, stream
        self.done = self.failed = self.running = 0
        self.durations: list[float] = []
        self.t0 = time.monotonic()

    def start(self, job):
        self.running += 1

    def finish(self, outcome: Outcome):
        self.running -= 1
        self.done += 1
        self.failed += not outcome.ok
        self.durations.append(outcome.seconds)
        left = self.total - self.done
        avg = sum(self.durations) / len(self.durations)
        eta = left * avg / max(1, self.workers)
        status = "ok" if outcome.ok else f"FAILED: {outcome.reason}"
        print(f"[{self.done}/{self.total}] {outcome.job.student_id}: {status} ({outcome.seconds:.1f}s)"
              f" | done {self.done - self.failed}, failed {self.failed}, running {self.running},"
              f" ETA {eta:.0f}s", file=self.stream, flush=True)


def state_path(layout: Layout, job: GradingJob) -> Path:
    return layout.runtime / "grading" / job.assignment_id / f"{job.student_id}.json"


class LiveJobs:
    """``runtime/grading/<day>/.live-<pid>.json``: this grader's queued and running jobs.

    The dashboard reads it (and ignores files whose grader process is gone: a crash leaves the
    file, never a job shown as running forever). Removed when the grader finishes.
    """

    def __init__(self, layout: Layout, assignment_id: str, jobs: list[GradingJob]):
        self.path = layout.runtime / "grading" / assignment_id / f".live-{os.getpid()}.json"
        now = datetime.now(UTC).isoformat()
        self.jobs = {j.student_id: {"state": "queued", "since": now} for j in jobs}
        self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"pid": os.getpid(), "jobs": self.jobs}))
        tmp.replace(self.path)

    def running(self, job: GradingJob) -> None:
        self.jobs[job.student_id] = {"state": "running", "since": datetime.now(UTC).isoformat()}
        self._write()

    def done(self, job: GradingJob) -> None:
        self.jobs.pop(job.student_id, None)
        self._write()

    def close(self) -> None:
        self.path.unlink(missing_ok=True)


def already_graded(layout: Layout, job: GradingJob) -> bool:
    path = state_path(layout, job)
    if not path.exists():
        return False
    return json.loads(path.read_text()).get("timestamp") == job.timestamp


def _land(layout: Layout, outcome: Outcome) -> dict:
    """Put one run's results where `nbgrader autograde` would, then record the state."""
    job = outcome.job
    dest = layout.autograded / job.student_id / job.assignment_id
    scores = {}
    if outcome.ok:
        work_db = outcome.work / "course" / "gradebook.db"
        scores = gradebook.import_results(work_db, layout.gradebook_url, job.assignment_id, job.student_id)
        produced = outcome.work / "course" / "autograded" / job.student_id / job.assignment_id
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        # Only notebooks and the timestamp come back: never links or whatever else the code wrote.
        for f in produced.iterdir():
            if f.is_file() and not f.is_symlink() and (f.suffix == ".ipynb" or f.name == "timestamp.txt"):
                shutil.copy(f, dest / f.name)
        # nbgrader's release_feedback files feedback under the submission's secret: take it
        # from the collected submission, not from what the run produced.
        secret = layout.submitted / job.student_id / job.assignment_id / "submission_secret.txt"
        if secret.is_file() and not secret.is_symlink():
            shutil.copy(secret, dest / secret.name)
    else:
        gradebook.record_failure(layout.gradebook_url, job.assignment_id, job.student_id, job.timestamp)
    state = {"timestamp": job.timestamp, "ok": outcome.ok, "reason": outcome.reason,
             "seconds": round(outcome.seconds, 2), "scores": scores}
    path = state_path(layout, job)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1))
    tmp.replace(path)
    return state


def grade(layout: Layout, assignment_id: str, students: list[str] | None = None, *,
          workers: int = 2, force: bool = False, backend: LocalBackend | None = None,
          stream=sys.stdout, keep_work: bool = False, limits: dict | None = None) -> Report:
    """Grade the collected submissions of ``assignment_id``; ``limits`` overrides job fields."""
    jobs = [replace(j, **(limits or {})) for j in plan(layout, assignment_id, students)]
    todo = [j for j in jobs if force or not already_graded(layout, j)]
    skipped = [j for j in jobs if j not in todo]
    backend = backend or LocalBackend(layout, workers=workers)
    print(f"grading {assignment_id}: {len(todo)} submission(s) on the {backend.describe()}"
          + (f"; {len(skipped)} already graded" if skipped else ""), file=stream, flush=True)
    if not todo:
        return Report([], skipped)
    run_dir = backend.template_dir(assignment_id)
    template = gradebook.make_template(layout.gradebook_url, assignment_id, run_dir / "gradebook.db")
    release_dir = layout.release / assignment_id
    progress = Progress(len(todo), backend.workers, stream)
    live = LiveJobs(layout, assignment_id, todo)

    def on_start(job: GradingJob):
        live.running(job)
        progress.start(job)

    def on_done(outcome: Outcome):
        _land(layout, outcome)
        live.done(outcome.job)
        progress.finish(outcome)
        if not keep_work and outcome.work:
            shutil.rmtree(outcome.work, ignore_errors=True)

    def inputs(job):
        return layout.submitted / job.student_id / job.assignment_id, release_dir, template

    try:
        outcomes = backend.run(todo, inputs, on_start=on_start, on_done=on_done)
    finally:
        live.close()
        shutil.rmtree(run_dir, ignore_errors=True)
    return Report(outcomes, skipped)
