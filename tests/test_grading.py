"""The grading engine lands exactly what `nbgrader autograde` would, and is safe to re-run."""

from __future__ import annotations

import io
import shutil

import pytest
from nbgrader.api import Gradebook

from arena_hub import release
from arena_hub.course import COURSE_ID
from arena_hub.grading import engine
from tests import mutants
from tests.helpers import notebook, scratch_course, submit_files

AID = "c0d0-prereqs"


def gradebook_rows(layout, students):
    """Every cell's score, manual-grade flag and auto comment, per student."""
    rows = {}
    with Gradebook(layout.gradebook_url, COURSE_ID) as gb:
        for s in students:
            nb = gb.find_submission_notebook(AID, AID, s)
            rows[s] = {
                "grades": {g.name: (g.auto_score, g.score, g.needs_manual_grade) for g in nb.grades},
                "comments": {c.name: c.auto_comment for c in nb.comments},
                "late_penalty": nb.late_submission_penalty,
                "timestamp": nb.assignment.timestamp,
            }
    return rows


@pytest.fixture(scope="module")
def two_courses(tmp_path_factory):
    """The same submissions, graded by the engine in one course and by nbgrader in another."""
    tmp = tmp_path_factory.mktemp("grading")
    ours, theirs = scratch_course(tmp / "ours"), scratch_course(tmp / "theirs")
    src, rel = notebook(ours, "source", AID), notebook(ours, "release", AID)
    cases = mutants.for_day(AID)
    subs = {"reference": src, "untouched": rel}
    subs.update({f"mutant{i}": mutants.apply(src, cases[i]) for i in (0, 9, 13, 24, 33)})
    for layout in (ours, theirs):
        release.build(layout, [AID])
        submit_files(layout, AID, subs)
        for s in subs:  # a submission time, as collect writes it
            (layout.submitted / s / AID / "timestamp.txt").write_text("2026-11-30 10:00:00.000000 UTC")
    out = io.StringIO()
    report = engine.grade(ours, AID, workers=2, stream=out)
    proc = release.nbgrader(theirs, "autograde", AID, "--force")
    assert proc.returncode == 0, proc.stderr
    return ours, theirs, list(subs), report, out.getvalue()


def test_engine_matches_nbgrader_autograde_cell_by_cell(two_courses):
    ours, theirs, students, report, _ = two_courses
    assert not report.failed, [o.reason for o in report.failed]
    assert gradebook_rows(ours, students) == gradebook_rows(theirs, students)
    for s in students:
        assert (ours.autograded / s / AID / f"{AID}.ipynb").is_file(), f"no autograded notebook for {s}"


def test_progress_is_reported(two_courses):
    *_, students, report, out = two_courses
    assert f"grading {AID}: {len(students)} submission(s)" in out
    assert f"[{len(students)}/{len(students)}]" in out and "ETA" in out and "failed 0" in out


def test_rerun_skips_graded_and_force_regrades(two_courses):
    ours, _, students, _, _ = two_courses
    before = gradebook_rows(ours, students)
    again = engine.grade(ours, AID, stream=io.StringIO())
    assert again.graded == [] and len(again.skipped) == len(students)
    forced = engine.grade(ours, AID, students=["reference", "untouched"], force=True, stream=io.StringIO())
    assert len(forced.graded) == 2 and not forced.failed
    assert gradebook_rows(ours, students) == before


def test_a_crash_midway_loses_nothing(tmp_path, monkeypatch):
    layout = scratch_course(tmp_path)
    src = notebook(layout, "source", AID)
    release.build(layout, [AID])
    submit_files(layout, AID, {"s1": src, "s2": src, "s3": src})
    real_land, landed = engine._land, []

    def crash_after_one(layout_, outcome):
        if landed:
            raise KeyboardInterrupt("the grader was stopped")
        landed.append(outcome.job.student_id)
        return real_land(layout_, outcome)

    monkeypatch.setattr(engine, "_land", crash_after_one)
    with pytest.raises(KeyboardInterrupt):
        engine.grade(layout, AID, workers=1, stream=io.StringIO())
    monkeypatch.setattr(engine, "_land", real_land)
    report = engine.grade(layout, AID, workers=2, stream=io.StringIO())
    assert sorted(o.job.student_id for o in report.graded) == sorted({"s1", "s2", "s3"} - set(landed))
    assert [j.student_id for j in report.skipped] == landed
    with Gradebook(layout.gradebook_url, COURSE_ID) as gb:
        assert [gb.find_submission(AID, s).score for s in ("s1", "s2", "s3")] == [100, 100, 100]


def test_grading_an_unknown_student_or_ungenerated_assignment_says_so(tmp_path):
    layout = scratch_course(tmp_path)
    with pytest.raises(ValueError, match="no collected submission of c0d0-prereqs for: zoe"):
        engine.grade(layout, AID, students=["zoe"], stream=io.StringIO())
    submit_files(layout, AID, {"s1": notebook(layout, "release", AID)})
    with pytest.raises(ValueError, match="is not in the gradebook.*generate it first"):
        engine.grade(layout, AID, stream=io.StringIO())


def test_container_entry_point_grades_its_one_job(tmp_path, request):
    """What a kubernetes Job (or docker container) runs, run here as a plain process."""
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from arena_hub.grading import gradebook
    from arena_hub.grading.job import plan

    layout = scratch_course(tmp_path / "course")
    release.build(layout, [AID])
    submit_files(layout, AID, {"alice": notebook(layout, "source", AID)})
    [job] = plan(layout, AID)
    # As in a container, the kernel's uid must be able to reach its home under the pod root.
    pod = Path(tempfile.mkdtemp(prefix="arena-pod-"))
    pod.chmod(0o711)
    request.addfinalizer(lambda: shutil.rmtree(pod, ignore_errors=True))
    shutil.copytree(layout.submitted / "alice" / AID, pod / "submission")
    gradebook.make_template(layout.gradebook_url, AID, pod / "template" / "gradebook.db")
    shutil.copytree(layout.release, pod / "course" / "release")
    env = dict(os.environ, ARENA_HUB_POD_ROOT=str(pod), ARENA_HUB_JOB=job.to_json())
    proc = subprocess.run([sys.executable, "-m", "arena_hub.grading.pod"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    scores = gradebook.import_results(pod / "results" / "course" / "gradebook.db", layout.gradebook_url, AID, "alice")
    assert sum(scores.values()) == 100
    assert (pod / "results" / "course" / "autograded" / "alice" / AID / f"{AID}.ipynb").is_file()


def test_multi_process_day_runs_its_checks_on_every_rank(tmp_path):
    """c3x0-collectives asks for world_size = 2: its checks run on 2 gloo ranks in the sandbox."""
    day = "c3x0-collectives"
    layout = scratch_course(tmp_path)
    release.build(layout, [day])
    src, rel = notebook(layout, "source", day), notebook(layout, "release", day)
    only_rank0 = mutants.for_day(day)[2]
    submit_files(layout, day, {"reference": src, "untouched": rel, "buggy": mutants.apply(src, only_rank0)})
    report = engine.grade(layout, day, workers=2, stream=io.StringIO())
    assert not report.failed and {o.job.world_size for o in report.graded} == {2}
    with Gradebook(layout.gradebook_url, COURSE_ID) as gb:
        got = {s: gb.find_submission(day, s).score for s in ("reference", "untouched", "buggy")}
    assert got == {"reference": 100, "untouched": 0, "buggy": 40}
