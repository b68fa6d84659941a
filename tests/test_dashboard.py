"""The instructor dashboard's data: literal cohorts, and a gradebook filled by real grading."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from arena_hub import dashboard, release
from arena_hub.cohort import GRADERS_GROUP, STUDENTS_GROUP
from arena_hub.course import COURSE_ID
from arena_hub.grading import engine
from tests import mutants
from tests.helpers import notebook, scratch_course, submit_files

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
D1, D2, D3, D4, D5 = "c0d0-one", "c0d1-two", "c0d2-three", "c0d3-four", "c0d4-five"
DUE = {D1: datetime(2026, 12, 1, 18), D2: datetime(2026, 12, 2, 18), D3: datetime(2026, 12, 3, 18),
       D4: datetime(2026, 12, 4, 18)}


@pytest.fixture(autouse=True, scope="module")
def alembic_on_path():
    # nbgrader stamps a new gradebook with `alembic heads`, run from PATH.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        yield


def iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def grade_all(gb, day, student, scores, *, manual=None, timestamp=None):
    """A graded submission: ``scores`` {cell: auto score}, ``manual`` {cell: manual score}."""
    sub = gb.add_submission(day, student, timestamp=timestamp or DUE[day] - timedelta(hours=2))
    for name, score in scores.items():
        gb.find_grade(name, day, day, student).auto_score = score
    for name, score in (manual or {}).items():
        g = gb.find_grade(name, day, day, student)
        g.manual_score = score
        g.needs_manual_grade = False
    for g in sub.notebooks[0].grades:
        if g.auto_score is not None and g.name not in (manual or {}) and g.name != "answer":
            g.needs_manual_grade = False
    gb.db.commit()


@pytest.fixture(scope="module")
def literal(tmp_path_factory):
    """Five days: d1-d3 graded in parts, d4 released with no submissions, d5 only authored.

    Cohort (hub group nbgrader-arena): alice (strong), bob (falling), carol (late, inactive),
    dave (in the gradebook, deleted from the hub), erin (on the hub, never seen, not in the
    gradebook). ivan is a grader on the hub who also submitted d1: not in the cohort.
    """
    url = f"sqlite:///{tmp_path_factory.mktemp('literal') / 'gradebook.db'}"
    with warnings.catch_warnings(), Gradebook(url, COURSE_ID) as gb:
        warnings.simplefilter("ignore")  # nbgrader's autoflush notes while it adds submissions
        for day in (D1, D2, D3, D4):
            gb.add_assignment(day, duedate=DUE[day])
            gb.add_notebook(day, day)
            for t in ("t1", "t2"):
                gb.add_grade_cell(t, day, day, max_score=5, cell_type="code")
        # A written answer: graded by hand, part of the score, not a test.
        gb.add_grade_cell("answer", D1, D1, max_score=10, cell_type="markdown")
        gb.add_solution_cell("answer", D1, D1)
        for s in ("alice", "bob", "carol", "dave", "ivan"):
            gb.add_student(s)
        grade_all(gb, D1, "alice", {"t1": 5, "t2": 5}, manual={"answer": 8})
        # bob's t2 failed its test and a grader gave the points by hand: manual overrides auto.
        grade_all(gb, D1, "bob", {"t1": 5, "t2": 0}, manual={"t2": 5, "answer": 10})
        grade_all(gb, D1, "carol", {"t1": 5, "t2": 0}, timestamp=DUE[D1] + timedelta(hours=3))
        grade_all(gb, D1, "dave", {"t1": 5, "t2": 5})
        grade_all(gb, D1, "ivan", {"t1": 0, "t2": 0})
        grade_all(gb, D2, "alice", {"t1": 5, "t2": 5})
        grade_all(gb, D2, "bob", {"t1": 5, "t2": 0})
        grade_all(gb, D3, "alice", {"t1": 5, "t2": 5})
        grade_all(gb, D3, "bob", {"t1": 0, "t2": 0})
    users = [
        {"name": "alice", "groups": [STUDENTS_GROUP], "last_activity": iso(NOW - timedelta(days=1)),
         "servers": {"": {"started": iso(NOW - timedelta(hours=5)), "ready": True,
                          "last_activity": iso(NOW - timedelta(hours=1)), "user_options": {},
                          "state": {"gpu_ids": ["0"]}}}},
        {"name": "bob", "groups": [STUDENTS_GROUP], "last_activity": iso(NOW - timedelta(days=2)),
         "servers": {"big": {"started": iso(NOW - timedelta(hours=2)), "ready": True,
                             "last_activity": None, "user_options": {"profile": "gpu-small"}}}},
        {"name": "carol", "groups": [STUDENTS_GROUP], "last_activity": iso(NOW - timedelta(days=10)),
         "servers": {"": {"started": iso(NOW - timedelta(days=10)), "user_options": {"profile": "cpu"},
                          "last_activity": iso(NOW - timedelta(days=10))},
                     "old": {"stopped": True, "state": {"gpu_ids": ["1"]}}}},
        {"name": "erin", "groups": [STUDENTS_GROUP], "last_activity": None, "servers": {}},
        {"name": "ivan", "groups": [GRADERS_GROUP], "last_activity": iso(NOW),
         "servers": {"": {"started": iso(NOW - timedelta(hours=9)), "state": {"gpu_ids": ["1"]}}}},
    ]
    kwargs = dict(
        days=[D1, D2, D3, D4, D5], released=[D1, D3, D4], users=users, group=STUDENTS_GROUP,
        fetched={("carol", D3), ("erin", D4)},
        # carol handed in d2 after its due date; collected, not graded yet.
        submitted={("carol", D2): "2026-12-03 09:00:00.000000 UTC"},
        grading_states=[
            {"day": D1, "student": "alice", "ok": True, "reason": "", "seconds": 12.5,
             "timestamp": "2026-12-01 16:00:00.000000 UTC"},
            {"day": D1, "student": "carol", "ok": False, "reason": "stopped after the 60s time limit",
             "seconds": 60.1, "timestamp": "2026-12-01 21:00:00.000000 UTC"},
            {"day": D1, "student": "ivan", "ok": True, "reason": "", "seconds": 3.0},
        ],
        jobs=[{"day": D2, "student": "carol", "state": "queued"},
              {"assignment": D2, "student": "bob", "state": "running", "since": iso(NOW)}],
        now=NOW, inactive_days=7)
    return url, kwargs


def cell(view, student, day):
    [row] = [r for r in view.matrix if r.student == student]
    [c] = [c for c in row.cells if c.day == day]
    return c


def test_matrix_statuses_scores_late_and_manual_override(literal):
    url, kw = literal
    view = dashboard.build(url, **kw)
    assert view.days == [D1, D2, D3, D4, D5]
    assert view.cohort == ["alice", "bob", "carol", "dave", "erin"]  # ivan is a grader
    status = {(r.student, c.day): c.status for r in view.matrix for c in r.cells}
    assert [status[("alice", d)] for d in view.days] == ["graded"] * 3 + ["not fetched"] * 2
    assert [status[("carol", d)] for d in view.days] == ["graded", "late", "fetched", "not fetched",
                                                         "not fetched"]
    assert [status[("erin", d)] for d in view.days] == ["not fetched"] * 3 + ["fetched", "not fetched"]
    # Graded beats late, but the lateness is kept.
    assert cell(view, "carol", D1).late and not cell(view, "alice", D1).late
    assert cell(view, "carol", D2).timestamp == datetime(2026, 12, 3, 9, tzinfo=UTC)
    # bob's d1: t1 5 + t2 manual 5 (auto 0) + answer 10.
    assert cell(view, "bob", D1).score == 20 and cell(view, "bob", D1).max_score == 20
    assert cell(view, "alice", D1).score == 18
    assert cell(view, "carol", D1).needs_manual_grade  # the written answer is not graded yet
    assert cell(view, "alice", D5).max_score is None  # authored, never generated


def test_per_day_distribution_and_completion(literal):
    url, kw = literal
    days = {d.day: d for d in dashboard.build(url, **kw).per_day}
    d1 = days[D1]
    assert sorted(d1.scores) == [5, 10, 18, 20] and d1.median == 14 and d1.mean == 13.25
    assert (d1.cohort, d1.submitted, d1.graded, d1.late, d1.completion_rate) == (5, 4, 4, 1, 0.8)
    d2 = days[D2]
    assert sorted(d2.scores) == [5, 10] and (d2.submitted, d2.graded, d2.late) == (3, 2, 1)
    assert d2.released  # not in the released list, but handed in: it was released
    # A released day with no submission, and a day that exists only in source/.
    for d in (days[D4], days[D5]):
        assert d.scores == [] and d.mean is None and d.median is None and d.completion_rate == 0
    assert days[D4].fetched == 1 and days[D4].released and not days[D5].released


def test_per_test_pass_rates_hardest_first_with_formgrader_links(literal):
    url, kw = literal
    tests = dashboard.build(url, **kw).tests
    got = [(t.day, t.test, t.graded, t.passed) for t in tests]
    assert got == [
        (D2, "t2", 2, 1), (D3, "t1", 2, 1), (D3, "t2", 2, 1),  # 50%
        (D1, "t2", 4, 3),  # bob's manual points count as a pass; ivan's are not counted
        (D1, "t1", 4, 4), (D2, "t1", 2, 2),
        (D4, "t1", 0, 0), (D4, "t2", 0, 0),  # nobody graded: last
    ]
    assert "answer" not in {t.test for t in tests}  # a written answer, not a test
    assert tests[0].pass_rate == 0.5 and tests[-1].pass_rate is None
    assert tests[0].link == f"/services/arena/formgrader/gradebook/{D2}/{D2}"


def test_students_at_risk_with_reasons(literal):
    url, kw = literal
    risky = {a.student: a.reasons for a in dashboard.build(url, **kw).at_risk}
    assert set(risky) == {"bob", "carol", "dave", "erin"}
    [falling] = risky["bob"]
    assert falling.startswith("falling scores: 100% (c0d0-one) → 50% (c0d1-two) → 0% (c0d2-three)")
    assert "below the cohort median of 50%" in falling
    assert risky["carol"] == ["inactive for 10 days (last seen 2026-11-30)"]
    # d1 was handed in by 4 of 5, d2 by 3 of 5; d3 by 2 of 5 is not "most".
    assert risky["dave"] == ["missing submission: c0d1-two (handed in by 3/5)"]
    assert risky["erin"] == ["missing submissions: c0d0-one (handed in by 4/5), "
                             "c0d1-two (handed in by 3/5)", "no activity on the hub yet"]
    # A longer threshold forgives carol; no threshold, no inactivity reasons at all.
    assert "carol" not in {a.student for a in dashboard.build(url, **{**kw, "inactive_days": 11}).at_risk}
    nobody_idle = dashboard.build(url, **{**kw, "inactive_days": None}).at_risk
    assert all("inactive" not in r and "activity" not in r for a in nobody_idle for r in a.reasons)


def test_deleted_hub_user_stays_marked_and_hub_not_asked(literal):
    url, kw = literal
    view = dashboard.build(url, **kw)
    assert view.not_on_hub == ["dave"]
    assert {r.student: r.on_hub for r in view.matrix}["dave"] is False
    assert cell(view, "dave", D1).score == 10
    # Without the hub: the gradebook's students, nobody judged on activity, no GPU servers.
    blind = dashboard.build(url, **{**kw, "users": None})
    assert blind.cohort == ["alice", "bob", "carol", "dave", "ivan"]
    assert {r.on_hub for r in blind.matrix} == {None} and blind.not_on_hub == [] and blind.gpus == []
    assert [t.passed for t in blind.tests if (t.day, t.test) == (D1, "t2")] == [3]
    assert [t.graded for t in blind.tests if (t.day, t.test) == (D1, "t2")] == [5]


def test_grading_status_and_gpu_servers(literal):
    url, kw = literal
    view = dashboard.build(url, **kw)
    got = [(g.day, g.student, g.state) for g in view.grading]
    assert got == [(D2, "bob", "running"), (D2, "carol", "queued"), (D1, "carol", "failed"),
                   (D1, "alice", "graded")]
    assert view.grading[2].reason == "stopped after the 60s time limit" and view.grading[3].seconds == 12.5
    assert view.grading_counts == {"running": 1, "queued": 1, "failed": 1, "graded": 1}
    gpus = [(g.user, g.server, g.gpu_ids, g.profile, g.in_cohort) for g in view.gpus]
    # Longest-held first; carol's CPU server and stopped GPU server are not listed.
    assert gpus == [("ivan", "", ["1"], "", False), ("alice", "", ["0"], "", True),
                    ("bob", "big", [], "gpu-small", True)]
    assert view.gpus[1].started == NOW - timedelta(hours=5)


def test_filters_by_day_and_student(literal):
    url, kw = literal
    view = dashboard.build(url, **kw, student="bob", day=D1)
    assert [r.student for r in view.matrix] == ["bob"] and [c.day for c in view.matrix[0].cells] == [D1]
    assert [a.student for a in view.at_risk] == ["bob"]
    assert {t.day for t in view.tests} == {D1} and [d.day for d in view.per_day] == [D1]
    assert view.per_day[0].completion_rate == 0.8  # still the whole cohort's
    assert view.grading == [] and [g.user for g in view.gpus] == ["bob"]
    assert view.cohort == ["alice", "bob", "carol", "dave", "erin"]
    none = dashboard.build(url, **kw, student=["nobody"], day=["c9d9-nothing"])
    assert none.matrix == [] and none.per_day == [] and none.tests == []


def test_empty_cohort_and_missing_gradebook(tmp_path, literal):
    url, kw = literal
    missing = tmp_path / "nothing" / "gradebook.db"
    view = dashboard.build(f"sqlite:///{missing}", users=[], now=NOW)
    assert not missing.exists()  # reading never creates a gradebook
    assert (view.cohort, view.matrix, view.per_day, view.tests, view.at_risk) == ([], [], [], [], [])
    # A group nobody is in: the days are there, with nobody in them.
    view = dashboard.build(url, **{**kw, "group": "nbgrader-other"})
    assert view.cohort == ["dave"]  # only the student the hub no longer knows
    # A hub that has nobody: every gradebook student is there, marked as gone from the hub.
    view = dashboard.build(url, **{**kw, "users": [], "group": "nbgrader-other"})
    assert view.cohort == view.not_on_hub == ["alice", "bob", "carol", "dave", "ivan"]
    # A course whose gradebook has days and no students yet.
    empty_url = f"sqlite:///{tmp_path / 'empty.db'}"
    with Gradebook(empty_url, COURSE_ID) as gb:
        gb.add_assignment(D1, duedate=DUE[D1])
        gb.add_notebook(D1, D1)
        for name in ("t1", "t2"):
            gb.add_grade_cell(name, D1, D1, max_score=5, cell_type="code")
    empty = dashboard.build(empty_url, users=[{"name": "x", "groups": []}], group="g", now=NOW)
    assert empty.cohort == [] and empty.matrix == []
    d1 = empty.per_day[0]
    assert (d1.cohort, d1.completion_rate, d1.mean, d1.scores) == (0, None, None, [])
    assert [t.graded for t in empty.tests if t.day == D1] == [0, 0]
    for name in dashboard.TABLES:
        rows = list(csv.DictReader(io.StringIO(empty.csv(name))))
        assert name in ("days", "tests") or rows == []
    json.dumps(empty.as_dict())


def test_csv_round_trip(literal):
    url, kw = literal
    view = dashboard.build(url, **kw)
    rows = list(csv.DictReader(io.StringIO(view.csv("matrix"))))
    assert list(rows[0]) == dashboard.TABLES["matrix"]
    cells = [c for r in view.matrix for c in r.cells]
    assert len(rows) == len(cells)
    for row, c in zip(rows, cells):
        assert (row["student"], row["day"], row["status"]) == (c.student, c.day, c.status)
        assert (float(row["score"]) if row["score"] else None) == c.score
        assert row["late"] == ("true" if c.late else "false")
        assert (datetime.fromisoformat(row["timestamp"]) if row["timestamp"] else None) == c.timestamp
    days = {r["day"]: r for r in csv.DictReader(io.StringIO(view.csv("days")))}
    assert sorted(float(x) for x in days[D1]["scores"].split("; ")) == [5, 10, 18, 20]
    assert days[D5]["mean"] == "" and float(days[D1]["completion_rate"]) == 0.8
    risk = {r["student"]: r["reason"] for r in csv.DictReader(io.StringIO(view.csv("at_risk")))}
    assert risk["carol"] == "inactive for 10 days (last seen 2026-11-30)"
    assert risk["erin"].split("; ") == [a.reasons for a in view.at_risk if a.student == "erin"][0]
    wide = list(csv.DictReader(io.StringIO(view.csv("scores"))))
    assert {r["student"]: (r[D1], r[D2]) for r in wide}["carol"] == ("5.0", "late")
    for name in dashboard.TABLES:  # every table exports
        rows, columns = view.table(name)
        assert len(list(csv.DictReader(io.StringIO(dashboard.to_csv(rows, columns))))) == len(rows)
    data = json.loads(json.dumps(view.as_dict()))
    assert data["at_risk"][0]["reasons"] and data["generated_at"] == NOW.isoformat()


def test_to_csv_takes_dicts_and_quotes():
    text = dashboard.to_csv([{"a": 'x, "y"', "b": None, "c": [1.5, 2]}, {"a": True}], ["a", "b", "c"])
    assert list(csv.reader(io.StringIO(text))) == [["a", "b", "c"], ['x, "y"', "", "1.5; 2"],
                                                   ["true", "", ""]]


def test_read_grading_states_and_evidence_from_files(tmp_path):
    layout = scratch_course(tmp_path, with_release=False)
    gdir = layout.runtime / "grading" / D1
    gdir.mkdir(parents=True)
    (gdir / "alice.json").write_text(json.dumps({"timestamp": "t", "ok": True, "reason": "",
                                                 "seconds": 1.5, "scores": {}}))
    (gdir / "bob.json").write_text("{not json")
    (gdir / "carol.tmp").write_text("half written")
    states = dashboard.read_grading_states(layout.runtime / "grading")
    assert [(s["student"], s["ok"]) for s in states] == [("alice", True), ("bob", None)]
    assert "unreadable" in states[1]["reason"] and states[0]["updated"].tzinfo is UTC
    rows = dashboard.grading_status(states)
    assert [(r.student, r.state) for r in rows] == [("bob", "unknown"), ("alice", "graded")]

    (layout.runtime / "home" / "erin" / D1).mkdir(parents=True)
    (layout.runtime / "home" / "erin" / "notes").mkdir()
    assert dashboard.fetched_pairs(layout, [D1, D2]) == {("erin", D1)}
    inbound = layout.exchange / COURSE_ID / "inbound"
    (inbound / f"bob+{D1}+2026-12-01 10:00:00.000000 UTC+abc123").mkdir(parents=True)
    (inbound / f"bob+{D1}+2026-12-01 09:00:00.000000 UTC+def456").mkdir(parents=True)
    (layout.submitted / "carol" / D1).mkdir(parents=True)
    assert dashboard.collected_submissions(layout) == {
        ("bob", D1): "2026-12-01 10:00:00.000000 UTC", ("carol", D1): True}
    (layout.exchange / COURSE_ID / "outbound" / D1).mkdir(parents=True)
    assert dashboard.released_days(layout, [D1, D2]) == [D1]


# ----------------------------------------------------------------------------------------------
# A gradebook filled by actually grading submissions of day 0.0 with the engine

AID = "c0d0-prereqs"


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dashboard")
    layout = scratch_course(tmp)
    release.build(layout, [AID])
    with Gradebook(layout.gradebook_url, COURSE_ID) as gb:
        gb.update_or_create_assignment(AID, duedate="2026-11-30 09:00:00 UTC")
        for s in ("alice", "bob", "carol", "dave", "erin"):  # as the hub registers the cohort
            gb.update_or_create_student(s, first_name=s, last_name="")
    src, rel = notebook(layout, "source", AID), notebook(layout, "release", AID)
    case = mutants.for_day(AID)[0]
    subs = {"alice": src, "bob": rel, "carol": mutants.apply(src, case), "dave": src}
    submit_files(layout, AID, subs)
    times = {"alice": "08:00", "bob": "08:30", "carol": "10:00", "dave": "10:30"}
    for s, hhmm in times.items():
        (layout.submitted / s / AID / "timestamp.txt").write_text(f"2026-11-30 {hhmm}:00.000000 UTC")
    (layout.runtime / "home" / "erin" / AID).mkdir(parents=True)  # fetched, nothing handed in
    report = engine.grade(layout, AID, students=["alice", "bob", "carol"], workers=2, stream=io.StringIO())
    assert not report.failed, [o.reason for o in report.failed]
    # A grader gives bob the points of one test by hand: the manual score overrides the 0.
    with Gradebook(layout.gradebook_url, COURSE_ID) as gb:
        nb = gb.find_notebook(AID, AID)
        written = {c.name for c in nb.solution_cells}
        overridden = sorted(c.name for c in nb.grade_cells if c.name not in written)[0]
        g = gb.find_grade(overridden, AID, AID, "bob")
        assert g.auto_score == 0
        g.manual_score, g.needs_manual_grade = g.max_score, False
        gb.db.commit()
    return layout, overridden


def test_dashboard_matches_the_gradebook_api_on_real_grading(graded_course):
    layout, overridden = graded_course
    users = [{"name": s, "groups": [STUDENTS_GROUP], "last_activity": iso(NOW), "servers": {}}
             for s in ("alice", "bob", "carol", "dave", "erin")]
    view = dashboard.from_layout(layout, users=users, group=STUDENTS_GROUP, now=NOW, day=AID)
    with Gradebook(layout.gradebook_url, COURSE_ID) as gb:
        for s in ("alice", "bob", "carol"):
            sub = gb.find_submission(AID, s)
            c = cell(view, s, AID)
            assert (c.status, c.score, c.max_score) == ("graded", sub.score, sub.max_score), s
            assert c.late == (sub.total_seconds_late > 0) and c.late == (s == "carol")
        assert cell(view, "alice", AID).score == 100
        assert cell(view, "bob", AID).score == gb.find_grade(overridden, AID, AID, "bob").max_score > 0
        assert 0 < cell(view, "carol", AID).score < 100
        # Collected but not graded (late: 10:30 after the 09:00 due date), and fetched only.
        assert cell(view, "dave", AID).status == "late" and cell(view, "erin", AID).status == "fetched"

        nb = gb.find_notebook(AID, AID)
        written = {c.name for c in nb.solution_cells}
        expected = {}
        for gc in nb.grade_cells:
            if gc.cell_type == "code" and gc.name not in written:
                grades = [gb.find_grade(gc.name, AID, AID, s) for s in ("alice", "bob", "carol")]
                expected[gc.name] = (len(grades), sum(g.score >= g.max_score for g in grades))
    got = {t.test: (t.graded, t.passed) for t in view.tests}
    assert got == expected and len(got) >= 20
    assert got[overridden][1] >= 2  # alice's reference and bob's manual points
    [day] = view.per_day
    assert sorted(day.scores) == sorted(cell(view, s, AID).score for s in ("alice", "bob", "carol"))
    assert (day.submitted, day.graded, day.late, day.completion_rate) == (4, 3, 2, 0.8)
    assert [(g.student, g.state) for g in view.grading] == [("alice", "graded"), ("bob", "graded"),
                                                            ("carol", "graded")]
    assert all(g.seconds and g.timestamp.startswith("2026-11-30") for g in view.grading)


def test_live_jobs_of_a_grader_show_as_queued_and_running(tmp_path):
    """The engine's live file (one per grader process) feeds the dashboard's grading table; a
    crashed grader's file is ignored and a finished grader leaves none."""
    from arena_hub.grading.job import GradingJob

    layout = scratch_course(tmp_path, with_release=False)
    jobs = [GradingJob("c0d0-prereqs", s, "") for s in ("ann", "ben", "cat")]
    live = engine.LiveJobs(layout, "c0d0-prereqs", jobs)
    live.running(jobs[0])
    live.done(jobs[1])
    grading_dir = layout.runtime / "grading"
    rows = dashboard.grading_status(dashboard.read_grading_states(grading_dir),
                                    dashboard.read_live_jobs(grading_dir))
    assert [(r.student, r.state) for r in rows] == [("ann", "running"), ("cat", "queued")]
    assert dashboard.read_live_jobs(grading_dir, alive=lambda pid: False) == [], "a dead grader's jobs"
    live.close()
    assert dashboard.read_live_jobs(grading_dir) == []
