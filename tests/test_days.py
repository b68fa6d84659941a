"""Every day's grades are true: reference = 100%, untouched release = 0, each bug loses its test.

Every submission of a day (reference, untouched release, each mutant) is graded by the grading
engine, which is what grades students. Plain `nbgrader autograde` (tests run in the student's
kernel, as when a student validates) grades the reference, the release and a spread sample of
the mutants, and must agree cell by cell: grading every mutant twice would double the suite's
time for little more evidence.
"""

from __future__ import annotations

import io

import pytest

from arena_hub import release
from arena_hub.grading import engine
from arena_hub.course import Layout
from tests import mutants
from tests.helpers import autograde, graded_cells, notebook, scores, scratch_course, submit_files

DAYS = Layout.from_env({}).assignment_ids()
NBGRADER_SAMPLE = 6  # mutants per day also graded by plain nbgrader


@pytest.fixture(scope="module", params=DAYS)
def graded(request, tmp_path_factory):
    aid = request.param
    layout = scratch_course(tmp_path_factory.mktemp(aid))
    source, released = notebook(layout, "source", aid), notebook(layout, "release", aid)
    cases = mutants.for_day(aid)
    submissions = {"reference": source, "untouched": released}
    submissions.update({f"mutant{i:02d}": mutants.apply(source, m) for i, m in enumerate(cases)})
    step = max(1, len(cases) // NBGRADER_SAMPLE)
    sample = ["reference", "untouched", *[f"mutant{i:02d}" for i in range(0, len(cases), step)][:NBGRADER_SAMPLE]]
    by_nbgrader = autograde(layout, aid, {s: submissions[s] for s in sample})
    ours = scratch_course(tmp_path_factory.mktemp(f"{aid}-engine"))
    release.build(ours, [aid])
    submit_files(ours, aid, submissions)
    report = engine.grade(ours, aid, workers=2, stream=io.StringIO())
    assert not report.failed, [(o.job.student_id, o.reason) for o in report.failed]
    by_engine = {s: scores(ours, aid, s) for s in submissions}
    return aid, graded_cells(source), cases, by_engine, by_nbgrader


def test_reference_scores_full_marks(graded):
    aid, cells, _, by_engine, by_nbgrader = graded
    assert sum(cells.values()) == 100, f"{aid}: the core notebook must total 100 points"
    for who, results in (("engine", by_engine), ("nbgrader", by_nbgrader)):
        lost = {k: v for k, v in results["reference"].items() if v != cells[k]}
        assert not lost, f"{aid}: the reference solution loses points on {lost} ({who})"


def test_untouched_release_scores_zero(graded):
    aid, cells, _, by_engine, by_nbgrader = graded
    for who, results in (("engine", by_engine), ("nbgrader", by_nbgrader)):
        passing = sorted(k for k in cells if results["untouched"][k] != 0)
        assert not passing, f"{aid}: tests that pass on the untouched release (cannot fail): {passing} ({who})"


def test_every_exercise_has_two_mutants(graded):
    aid, _, cases, _, _ = graded
    source = notebook(Layout.from_env({}), "source", aid)
    exercises = {c.metadata["nbgrader"]["grade_id"] for c in source.cells
                 if c.metadata.get("nbgrader", {}).get("solution")}
    count = {e: sum(m.exercise == e for m in cases) for e in exercises}
    assert not {e: n for e, n in count.items() if n < 2}, f"{aid}: exercises with fewer than two bugs"


def test_each_mutant_loses_exactly_its_tests(graded):
    aid, cells, cases, results, _ = graded
    wrong = []
    for i, m in enumerate(cases):
        got = results[f"mutant{i:02d}"]
        failed = {k for k in cells if got[k] != cells[k]}
        zeroed = {k for k in failed if got[k] == 0}
        if failed != m.fails or zeroed != failed:
            wrong.append(f"{m.exercise} ({m.bug}): expected to fail {sorted(m.fails)}, "
                         f"failed {sorted(failed)}")
    assert not wrong, f"{aid}:\n" + "\n".join(wrong)


def test_the_engine_agrees_with_nbgrader(graded):
    aid, _, _, by_engine, by_nbgrader = graded
    differ = {s: (by_nbgrader[s], by_engine[s]) for s in by_nbgrader if by_nbgrader[s] != by_engine[s]}
    assert not differ, f"{aid}: engine and nbgrader disagree on {sorted(differ)}: {differ}"
