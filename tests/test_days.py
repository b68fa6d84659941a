"""Every day's grades are true: reference = 100%, untouched release = 0, each bug loses its test.

All submissions of a day are graded by one real `nbgrader autograde` run in a scratch course.
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


@pytest.fixture(scope="module", params=DAYS)
def graded(request, tmp_path_factory):
    aid = request.param
    layout = scratch_course(tmp_path_factory.mktemp(aid))
    source, released = notebook(layout, "source", aid), notebook(layout, "release", aid)
    cases = mutants.for_day(aid)
    submissions = {"reference": source, "untouched": released}
    submissions.update({f"mutant{i:02d}": mutants.apply(source, m) for i, m in enumerate(cases)})
    results = autograde(layout, aid, submissions)
    # The same submissions through the grading engine (sandbox, tests decided by the judge).
    ours = scratch_course(tmp_path_factory.mktemp(f"{aid}-engine"))
    release.build(ours, [aid])
    submit_files(ours, aid, submissions)
    report = engine.grade(ours, aid, workers=2, stream=io.StringIO())
    assert not report.failed, [(o.job.student_id, o.reason) for o in report.failed]
    by_engine = {s: scores(ours, aid, s) for s in submissions}
    return aid, graded_cells(source), cases, results, by_engine


def test_reference_scores_full_marks(graded):
    aid, cells, _, results, _ = graded
    assert sum(cells.values()) == 100, f"{aid}: the core notebook must total 100 points"
    lost = {k: v for k, v in results["reference"].items() if v != cells[k]}
    assert not lost, f"{aid}: the reference solution loses points on {lost}"


def test_untouched_release_scores_zero(graded):
    aid, cells, _, results, _ = graded
    passing = sorted(k for k in cells if results["untouched"][k] != 0)
    assert not passing, f"{aid}: tests that pass on the untouched release (cannot fail): {passing}"


def test_every_exercise_has_a_mutant(graded):
    aid, _, cases, _, _ = graded
    source = notebook(Layout.from_env({}), "source", aid)
    exercises = {c.metadata["nbgrader"]["grade_id"] for c in source.cells
                 if c.metadata.get("nbgrader", {}).get("solution")}
    assert exercises - {m.exercise for m in cases} == set()


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


def test_the_engine_agrees_with_nbgrader_on_every_submission(graded):
    aid, _, _, results, by_engine = graded
    differ = {s: (results[s], by_engine[s]) for s in results if results[s] != by_engine[s]}
    assert not differ, f"{aid}: engine and nbgrader disagree on {sorted(differ)}: {differ}"
