"""Grading time of each day: the reference notebook, graded by the engine on one worker.

    .venv/bin/python benchmarks/days.py [day ...]

One worker, one thread per kernel (``OMP_NUM_THREADS=1`` in every run), FAST mode: what one CPU
core of a grading node spends per submission. Prints, per day, the run's seconds against the
day's ``cpu_budget_seconds`` (assignment.toml) and the issue's 120 s ceiling.
"""

from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from arena_hub import release  # noqa: E402
from arena_hub.course import Layout  # noqa: E402
from arena_hub.grading import engine  # noqa: E402
from tests.helpers import notebook, scores, scratch_course, submit_files  # noqa: E402

CEILING = 120.0


def main(days: list[str]) -> int:
    days = days or Layout.from_env({}).assignment_ids()
    worst = 0
    print(f"{'day':<26} {'graded in':>10} {'budget':>8} {'score':>6}")
    for day in days:
        with tempfile.TemporaryDirectory() as tmp:
            layout = scratch_course(Path(tmp))
            release.build(layout, [day])
            submit_files(layout, day, {"reference": notebook(layout, "source", day)})
            report = engine.grade(layout, day, workers=1, stream=io.StringIO())
            outcome = report.graded[0]
            total = sum(scores(layout, day, "reference").values()) if outcome.ok else float("nan")
            budget = layout.spec(day).grading_spec.cpu_budget_seconds
        worst = max(worst, outcome.seconds)
        print(f"{day:<26} {outcome.seconds:>9.1f}s {budget:>7}s {total:>6.0f}"
              + ("" if outcome.ok else f"  FAILED: {outcome.reason}"))
    print(f"slowest: {worst:.1f} s (ceiling {CEILING:.0f} s per day on one core)")
    return 0 if worst <= CEILING else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
