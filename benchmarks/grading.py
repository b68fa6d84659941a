"""Grading engine vs `nbgrader autograde`: 40 submissions of day 0.0, same machine, one run.

    .venv/bin/python benchmarks/grading.py [--submissions 40] [--workers 2]

Prints the speed ratio (target >= 1.8x with 2 workers on 2 cores), the engine's overhead per
submission over the notebook's own run time (target <= 1.5 s) and whether every score matches.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nbgrader.api import Gradebook  # noqa: E402

from arena_hub import release  # noqa: E402
from arena_hub.course import COURSE_ID  # noqa: E402
from arena_hub.grading import engine  # noqa: E402
from tests import mutants  # noqa: E402
from tests.helpers import notebook, scratch_course, submit_files  # noqa: E402

AID = "c0d0-prereqs"


def submissions(layout, n):
    src, rel = notebook(layout, "source", AID), notebook(layout, "release", AID)
    cases = mutants.for_day(AID)
    subs = {}
    for i in range(n):
        kind = i % 4
        if kind == 0:
            subs[f"s{i:03d}"] = src
        elif kind == 1:
            subs[f"s{i:03d}"] = rel
        else:
            subs[f"s{i:03d}"] = mutants.apply(src, cases[i % len(cases)])
    return subs


def all_scores(layout, students):
    with Gradebook(layout.gradebook_url, COURSE_ID) as gb:
        return {s: {g.name: g.score for g in gb.find_submission_notebook(AID, AID, s).grades}
                for s in students}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--submissions", type=int, default=40)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base, ours = scratch_course(Path(tmp) / "nbgrader"), scratch_course(Path(tmp) / "engine")
        subs = submissions(base, args.submissions)
        for layout in (base, ours):
            release.build(layout, [AID])
            submit_files(layout, AID, subs)

        t0 = time.monotonic()
        proc = release.nbgrader(base, "autograde", AID, "--force")
        t_base = time.monotonic() - t0
        assert proc.returncode == 0, proc.stderr[-2000:]

        t0 = time.monotonic()
        report = engine.grade(ours, AID, workers=args.workers, stream=io.StringIO())
        t_ours = time.monotonic() - t0
        assert not report.failed, [o.reason for o in report.failed]
        same = all_scores(base, subs) == all_scores(ours, subs)

    n = args.submissions
    print(f"submissions: {n} (correct, blank and buggy day 0.0 notebooks)")
    print(f"nbgrader autograde (serial):        {t_base:7.1f} s  ({t_base / n:.2f} s per submission)")
    print(f"engine, local backend, {args.workers} workers:   {t_ours:7.1f} s  "
          f"({t_ours * args.workers / n:.2f} worker-s per submission)")
    print(f"speed ratio: {t_base / t_ours:.2f}x (target >= 1.8x)")
    print(f"overhead per submission over the notebook's own run: "
          f"{t_ours * args.workers / n - t_base / n:+.2f} s (target <= 1.5 s)")
    print(f"identical scores, every cell: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
