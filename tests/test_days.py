"""Every day's grades are true: reference = 100%, untouched release = 0, each bug loses its test.

Every submission of a day (reference, untouched release, the mutants) is graded by the grading
engine, which is what grades students. Plain `nbgrader autograde` (tests run in the student's
kernel, as when a student validates) grades the reference, the release and a spread sample of
the mutant submissions, and must agree cell by cell: grading every mutant twice would double
the suite's time for little more evidence.

``ARENA_HUB_MUTANT_GROUP=k`` (``bin/test`` sets 5; unset: 1) grades up to k mutants in one
submission when they touch different exercises and each keeps a test cell that no other mutant
of the group is expected to fail (the test aimed at it; cells that several bugs break, such as a
day's final training test, may be shared); the submission must then lose exactly the union of
their cells. That keeps the suite within its time budget; with 1, each mutant is its own
submission (use it to find which mutant of a failing group is wrong).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from arena_hub import release
from arena_hub.grading import engine
from arena_hub.course import Layout
from tests import mutants
from tests.helpers import graded_cells, notebook, notebook_names, scores, scratch_course, submit_files

DAYS = Layout.from_env({}).assignment_ids()
# Every notebook of every day (the core one, named as the day, and e.g. `<id>-bonus`): each is
# checked on its own, its submissions holding only that notebook (nbgrader scores a missing one 0).
NOTEBOOKS = [(aid, name) for aid in DAYS for name in notebook_names(Layout.from_env({}), aid)]
pytestmark = pytest.mark.timeout(1800)  # a day's fixture grades dozens of notebooks
NBGRADER_SAMPLE = 1  # mutant submissions per day also graded by plain nbgrader
GROUP = max(1, int(os.environ.get("ARENA_HUB_MUTANT_GROUP") or 1))


def source_notebook(name: str):
    aid = next(a for a, n in NOTEBOOKS if n == name)
    return notebook(Layout.from_env({}), "source", aid, name)


def mutant_groups(cases, size: int) -> list[list[int]]:
    """Indexes of mutants graded together: different exercises, each with a cell of its own."""
    groups: list[list[int]] = []
    for i, m in enumerate(cases):
        for g in groups:
            members = [cases[j] for j in g] + [m]
            if len(g) < size and all(cases[j].exercise != m.exercise for j in g) and all(
                    x.fails - set().union(*(y.fails for y in members if y is not x)) for x in members):
                g.append(i)
                break
        else:
            groups.append([i])
    return groups


def apply_all(nb, cases):
    for m in cases:
        nb = mutants.apply(nb, m)
    return nb


@pytest.fixture(scope="module", params=NOTEBOOKS, ids=[name for _, name in NOTEBOOKS])
def graded(request, tmp_path_factory):
    aid, name = request.param
    layout = scratch_course(tmp_path_factory.mktemp(name))
    source, released = notebook(layout, "source", aid, name), notebook(layout, "release", aid, name)
    cases = mutants.for_day(name)
    submissions = {"reference": source, "untouched": released,
                   "alternative": mutants.apply_alternatives(source, mutants.alternatives_for_day(name))}
    groups = mutant_groups(cases, GROUP)
    submissions.update({f"mutants{k:02d}": apply_all(source, [cases[i] for i in g]) for k, g in enumerate(groups)})
    step = max(1, len(groups) // NBGRADER_SAMPLE)
    sample = ["reference", "untouched", "alternative",
              *[f"mutants{k:02d}" for k in range(0, len(groups), step)][:NBGRADER_SAMPLE]]
    # nbgrader grades one notebook at a time: its process runs beside the engine so no core sits
    # idle. A process, not a thread: the engine forks its runs from this process, and a thread
    # holding a lock (sqlite's, say) at that moment would leave the forked run stuck.
    release.build(layout, [aid])
    submit_files(layout, aid, {s: submissions[s] for s in sample}, name)
    with open(layout.data_dir / "nbgrader-autograde.log", "w+") as log:
        nbgrader = subprocess.Popen([str(Path(sys.executable).parent / "nbgrader"), "autograde", aid, "--force"],
                                    cwd=layout.course_root, env=release.nbgrader_env(layout), stdout=log,
                                    stderr=subprocess.STDOUT)
        try:
            ours = scratch_course(tmp_path_factory.mktemp(f"{name}-engine"))
            release.build(ours, [aid])
            submit_files(ours, aid, submissions, name)
            report = engine.grade(ours, aid, workers=2, stream=io.StringIO())
        finally:
            nbgrader.wait(timeout=1200)
        log.seek(0)
        assert nbgrader.returncode == 0, log.read()[-5000:]
    by_nbgrader = {s: scores(layout, aid, s, name) for s in sample}
    assert not report.failed, [(o.job.student_id, o.reason) for o in report.failed]
    by_engine = {s: scores(ours, aid, s, name) for s in submissions}
    return name, graded_cells(source), (cases, groups), by_engine, by_nbgrader


def test_reference_scores_full_marks(graded):
    name, cells, _, by_engine, by_nbgrader = graded
    if name in DAYS:  # a core notebook
        assert sum(cells.values()) == 100, f"{name}: the core notebook must total 100 points"
    assert sum(cells.values()) > 0, f"{name}: a notebook without autograded tests"
    for who, results in (("engine", by_engine), ("nbgrader", by_nbgrader)):
        lost = {k: v for k, v in results["reference"].items() if v != cells[k]}
        assert not lost, f"{name}: the reference solution loses points on {lost} ({who})"


def min_alternatives(n_exercises: int) -> int:
    """Exercises per day that must have an alternative correct solution: a third, at least 3."""
    return max(min(3, n_exercises), n_exercises // 3)


def test_alternative_solutions_score_full_marks(graded):
    name, cells, _, by_engine, by_nbgrader = graded
    alternatives = mutants.alternatives_for_day(name)
    exercises = [c.metadata["nbgrader"]["grade_id"] for c in source_notebook(name).cells
                 if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]
    assert len(alternatives) >= min_alternatives(len(exercises)), \
        f"{name}: only {len(alternatives)} exercises have an alternative solution"
    for who, results in (("engine", by_engine), ("nbgrader", by_nbgrader)):
        lost = {k: v for k, v in results["alternative"].items() if v != cells[k]}
        assert not lost, (f"{name}: correct alternative solutions of {sorted(alternatives)} lose points on "
                          f"{lost} ({who}): a test checks how the reference is written, not what it does")


def test_untouched_release_scores_zero(graded):
    name, cells, _, by_engine, by_nbgrader = graded
    for who, results in (("engine", by_engine), ("nbgrader", by_nbgrader)):
        passing = sorted(k for k in cells if results["untouched"][k] != 0)
        assert not passing, f"{name}: tests that pass on the untouched release (cannot fail): {passing} ({who})"


def test_every_exercise_has_two_mutants(graded):
    name, _, (cases, _), _, _ = graded
    source = source_notebook(name)
    exercises = {c.metadata["nbgrader"]["grade_id"] for c in source.cells
                 if c.metadata.get("nbgrader", {}).get("solution")}
    count = {e: sum(m.exercise == e for m in cases) for e in exercises}
    assert not {e: n for e, n in count.items() if n < 2}, f"{name}: exercises with fewer than two bugs"


def test_each_mutant_loses_exactly_its_tests(graded):
    name, cells, (cases, groups), results, _ = graded
    wrong = []
    for k, g in enumerate(groups):
        got = results[f"mutants{k:02d}"]
        failed = {c for c in cells if got[c] != cells[c]}
        zeroed = {c for c in failed if got[c] == 0}
        expected = set().union(*(cases[i].fails for i in g))
        if failed != expected or zeroed != failed:
            bugs = "; ".join(f"{cases[i].exercise} ({cases[i].bug})" for i in g)
            wrong.append(f"{bugs}: expected to fail {sorted(expected)}, failed {sorted(failed)}"
                         f", zeroed {sorted(zeroed)}")
    hint = "" if GROUP == 1 else "\n(grouped mutants: rerun with ARENA_HUB_MUTANT_GROUP=1 to isolate)"
    assert not wrong, f"{name}:\n" + "\n".join(wrong) + hint


def test_the_engine_agrees_with_nbgrader(graded):
    name, _, _, by_engine, by_nbgrader = graded
    differ = {s: (by_nbgrader[s], by_engine[s]) for s in by_nbgrader if by_nbgrader[s] != by_engine[s]}
    assert not differ, f"{name}: engine and nbgrader disagree on {sorted(differ)}: {differ}"
