"""Entry point of a grading container (kubernetes Job or docker run): grade the one job it holds.

Reads the job from ``ARENA_HUB_JOB``; the submission is mounted at ``/submission``, the
assignment's template gradebook at ``/template/gradebook.db``, the released files at
``/course/release/<id>`` (in the grader image) and the results go to ``/results`` (owned by
root: the student's kernel, under a uid of its own, cannot write there). The container itself
is the sandbox (limits, no network); ``ARENA_HUB_POD_ROOT`` moves all of these for tests.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from . import runner
from .job import GradingJob

KERNEL_UID = 1000


def main() -> int:
    root = Path(os.environ.get("ARENA_HUB_POD_ROOT", "/"))
    job = GradingJob.from_json(os.environ["ARENA_HUB_JOB"])
    work, results = root / "work" / "run", root / "results"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    kernel_uid = KERNEL_UID if os.geteuid() == 0 else None
    runner.prepare(work, job, root / "submission", root / "course" / "release" / job.assignment_id,
                   root / "template" / "gradebook.db", kernel_uid)
    env = runner.environment(work, job, os.environ.get("ARENA_HUB_LAUNCHER", "fork"))
    os.environ.clear()
    os.environ.update(env)
    os.chdir(work)
    rc = runner.autograde(work, job, kernel_uid)
    # What the engine imports: the run's gradebook and the autograded notebooks.
    results.mkdir(parents=True, exist_ok=True)
    if (results / "course").exists():
        shutil.rmtree(results / "course")
    out = results / "course"
    (out / "autograded").mkdir(parents=True)
    shutil.copy(work / "course" / "gradebook.db", out / "gradebook.db")
    produced = work / "course" / "autograded"
    if produced.exists():
        shutil.copytree(produced, out / "autograded", dirs_exist_ok=True, symlinks=True)
    print(f"grading {job.assignment_id} for {job.student_id}: exit {rc}", flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
