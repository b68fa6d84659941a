"""The instructor dashboard's data: how a cohort is doing, computed from what the course keeps.

Pure functions, data in and data out, so every number is unit-testable without a hub:

- the nbgrader gradebook (read through nbgrader's own ORM classes, as column queries that
  aggregate in SQL: a 1,000-student x 20-day course is a few hundred thousand grade rows);
- the course's days in course order and which of them are released;
- the hub's users as JupyterHub's REST API returns them (``GET /hub/api/users``: plain dicts
  with ``name``, ``groups``, ``last_activity`` and ``servers``; a server's ``state`` only appears
  for a token with the ``admin:server_state`` scope);
- the grading engine's state files (``runtime/grading/<day>/<student>.json``) and its live
  files of queued and running jobs (``.live-<pid>.json``, one per grader process);
- evidence that a student fetched a day or that a submission was collected but not graded.

:func:`build` turns them into one :class:`CohortView`; :func:`from_layout` fills the inputs of
the embedded default from a :class:`~arena_hub.course.Layout`. Every table of the view becomes
CSV through :func:`to_csv`.

Scores are nbgrader's: a cell's score is ``Grade.score`` (the manual score when there is one,
else the autograde, plus extra credit), a submission's score is their sum, exactly what the
formgrader shows; late penalties are reported next to it, not subtracted, as nbgrader does.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import statistics
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .course import COURSE_ID, Layout

#: Where the hub serves the course's formgrader (the service is named after the course).
FORMGRADER_URL = f"/services/{COURSE_ID}/formgrader"

NOT_FETCHED, FETCHED, SUBMITTED, LATE, GRADED = "not fetched", "fetched", "submitted", "late", "graded"
#: Cell statuses, weakest first: a cell shows the strongest one its evidence supports.
STATUSES = (NOT_FETCHED, FETCHED, SUBMITTED, LATE, GRADED)
#: Statuses that count as "handed in" for completion rates and missing-submission checks.
HANDED_IN = frozenset({SUBMITTED, LATE, GRADED})

#: Grading job states, the ones that need attention first.
JOB_STATES = ("running", "queued", "failed", "graded")


# ----------------------------------------------------------------------------------------------
# Time


def parse_time(value) -> datetime | None:
    """A timezone-aware UTC datetime from what the hub, nbgrader or a file says (None stays None).

    Accepts datetimes (naive ones are UTC, as nbgrader stores them), ISO 8601 strings (the hub's
    ``2026-11-30T10:00:00.000000Z``) and nbgrader's ``2026-11-30 10:00:00.000000 UTC``.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value).strip()
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            from nbgrader.utils import parse_utc  # knows nbgrader's "<date> <time> <zone>"

            dt = parse_utc(text)
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


# ----------------------------------------------------------------------------------------------
# The gradebook


# Submissions, cells and grading rows come by the ten thousand: plain slotted dataclasses
# build several times faster than frozen ones.
@dataclass(slots=True)
class Submission:
    """One student's submission of one day, as the gradebook holds it."""

    student: str
    day: str
    timestamp: datetime | None
    duedate: datetime | None  # the assignment's, plus this student's extension
    score: float  # sum of Grade.score, what the formgrader shows
    graded: bool  # at least one cell has an auto or manual score
    needs_manual_grade: bool
    late_penalty: float
    late: bool  # nbgrader's rule: SubmittedAssignment.total_seconds_late > 0


@dataclass(frozen=True)
class TestCell:
    """An autograded test cell of a day and how the cohort's graded submissions did on it."""

    __test__ = False  # a name pytest would otherwise try to collect

    day: str
    notebook: str
    name: str
    max_score: float
    graded: int  # graded submissions that have this cell
    passed: int  # ... of which scored the cell's full points


@dataclass
class GradebookData:
    """What the dashboard reads from the gradebook, already aggregated."""

    students: list[str] = field(default_factory=list)
    days: list[str] = field(default_factory=list)  # the course's assignments (duedate, name order)
    duedates: dict[str, datetime | None] = field(default_factory=dict)
    max_scores: dict[str, float] = field(default_factory=dict)
    submissions: dict[tuple[str, str], Submission] = field(default_factory=dict)  # (student, day)
    tests: list[TestCell] = field(default_factory=list)


def _is_late(timestamp: datetime | None, duedate: datetime | None) -> bool:
    return timestamp is not None and duedate is not None and timestamp > duedate


def _sqlite_missing(url: str) -> bool:
    if not url.startswith("sqlite:///"):
        return False
    path = url[len("sqlite:///"):]
    return path not in ("", ":memory:") and not os.path.exists(path)


def read_gradebook(gradebook_url: str, course_id: str = COURSE_ID, *,
                   exclude_students: Collection[str] = ()) -> GradebookData:
    """Read students, days, max scores, submissions and per-test counts from the gradebook.

    ``exclude_students`` leaves those students' submissions out of every figure (hub users who
    are not in the cohort's group). A sqlite gradebook that does not exist yet reads as empty
    instead of being created, so opening the dashboard never writes anything.
    """
    if _sqlite_missing(gradebook_url):
        return GradebookData()
    from nbgrader.api import (Assignment, Grade, GradeCell, Gradebook, Notebook, SolutionCell,
                              Student, SubmittedAssignment, SubmittedNotebook, TaskCell)
    from sqlalchemy import case, func, or_, select

    SA, SN = SubmittedAssignment, SubmittedNotebook
    exclude = frozenset(exclude_students)
    data = GradebookData()
    with warnings.catch_warnings(), Gradebook(gradebook_url, course_id) as gb:
        warnings.simplefilter("ignore")
        db = gb.db
        data.students = sorted(r[0] for r in db.execute(select(Student.id)))
        names = {}
        for aid, name, due in db.execute(
                select(Assignment.id, Assignment.name, Assignment.duedate)
                .where(Assignment.course_id == course_id)
                .order_by(Assignment.duedate, Assignment.name)):
            names[aid] = name
            data.days.append(name)
            data.duedates[name] = parse_time(due)
        if not names:
            return data

        nb_day = {}  # notebook id -> (day, notebook name)
        for nid, aid, nb_name in db.execute(select(Notebook.id, Notebook.assignment_id, Notebook.name)):
            if aid in names:
                nb_day[nid] = (names[aid], nb_name)
        data.max_scores = {name: 0.0 for name in names.values()}
        for cls in (GradeCell, TaskCell):
            for nid, total in db.execute(select(cls.notebook_id, func.sum(cls.max_score))
                                         .group_by(cls.notebook_id)):
                if nid in nb_day:
                    data.max_scores[nb_day[nid][0]] += total or 0.0

        # Submissions. nbgrader's schema has no index on grade.notebook_id, so a join from
        # submissions down to grades makes sqlite probe the grade table per row (seconds at
        # 1,000 students x 20 days). Instead each table is read once: grades summed per
        # submitted notebook in one scan, notebooks and submissions as plain columns, and the
        # three joined here by id.
        scored = or_(Grade.auto_score.isnot(None), Grade.manual_score.isnot(None))
        per_nb = {nid: (score, n_scored, n_manual) for nid, score, n_scored, n_manual in db.execute(
            select(Grade.notebook_id, func.coalesce(func.sum(Grade.score), 0.0),
                   func.count(case((scored, 1))), func.count(case((Grade.needs_manual_grade, 1))))
            .group_by(Grade.notebook_id))}
        per_sub: dict[str, list] = defaultdict(lambda: [0.0, 0, 0, 0.0, []])
        for nid, sid, penalty in db.execute(
                select(SN.id, SN.assignment_id, SN.late_submission_penalty)):
            agg = per_sub[sid]
            score, n_scored, n_manual = per_nb.get(nid, (0.0, 0, 0))
            agg[0] += score
            agg[1] += n_scored
            agg[2] += n_manual
            agg[3] += penalty or 0.0
            agg[4].append(nid)
        excluded_nbs = []
        for sid, student, aid, ts, extension in db.execute(
                select(SA.id, SA.student_id, SA.assignment_id, SA.timestamp, SA.extension)):
            if aid not in names:
                continue
            score, n_scored, n_manual, penalty, nbs = per_sub.get(sid, (0.0, 0, 0, 0.0, []))
            if student in exclude:
                excluded_nbs.extend(nbs)
                continue
            day = names[aid]
            due = data.duedates[day]
            if due is not None and extension is not None:
                due = due + extension
            ts = parse_time(ts)
            data.submissions[(student, day)] = Submission(
                student, day, ts, due, float(score), n_scored > 0, n_manual > 0, float(penalty),
                _is_late(ts, due))

        # Per-test counts: how many graded grades of each cell reached each score; a few rows.
        tests = {}
        solutions = set(db.execute(select(SolutionCell.notebook_id, SolutionCell.name)).all())
        for cid, nid, name, max_score, cell_type in db.execute(
                select(GradeCell.id, GradeCell.notebook_id, GradeCell.name, GradeCell.max_score,
                       GradeCell.cell_type)):
            # Autograder tests only: a grade cell that is also a solution cell is a written
            # answer graded by hand, not a test.
            if nid in nb_day and cell_type == "code" and (nid, name) not in solutions:
                tests[cid] = [*nb_day[nid], name, float(max_score or 0.0), 0, 0]
        # Grouping on the bare column makes sqlite walk the (cell_id, notebook_id) index and
        # fetch every row from it at random; an expression of it scans the table in order.
        cell = (Grade.cell_id + "").label("cell")
        query = select(cell, Grade.score, func.count()).where(scored).group_by(cell, Grade.score)
        counted = [(query, 1)]
        if excluded_nbs:  # rare: a hub user outside the cohort handed something in
            counted.append((query.where(Grade.notebook_id.in_(excluded_nbs)), -1))
        for q, sign in counted:
            for cid, score, count in db.execute(q):
                if cid in tests:
                    tests[cid][4] += sign * count
                    # Full points (extra credit can only add to them).
                    if score is not None and score >= tests[cid][3]:
                        tests[cid][5] += sign * count
        data.tests = [TestCell(*t) for t in tests.values()]
    return data


# ----------------------------------------------------------------------------------------------
# The cohort and the hub


@dataclass(frozen=True)
class Cohort:
    """Who the dashboard is about."""

    students: list[str]
    on_hub: dict[str, bool | None]  # None: the hub was not asked
    excluded: frozenset[str]  # hub users outside the group, whose gradebook rows are left out


def hub_names(users: Iterable[Mapping] | None) -> set[str] | None:
    """The names of the hub's users (None when the hub was not asked)."""
    return None if users is None else {u["name"] for u in users}


def cohort_of(gradebook_students: Iterable[str], users: Iterable[Mapping] | None = None,
              group: str | None = None) -> Cohort:
    """The cohort: the gradebook's students, narrowed to a hub group's members when given.

    With a group, hub users outside it (instructors, other cohorts) are left out and the group's
    members are in even before the gradebook knows them; a gradebook student who is no longer on
    the hub at all stays in, marked ``on_hub=False``, so their grades are not lost from view.
    """
    users = None if users is None else list(users)
    names = hub_names(users)
    excluded = outside_group(users, group)
    students = set(gradebook_students) - excluded
    if names is not None and group is not None:
        students |= names - excluded  # the group's members
    on_hub = {s: None if names is None else s in names for s in students}
    return Cohort(sorted(students), on_hub, excluded)


def outside_group(users: Iterable[Mapping] | None, group: str | None) -> frozenset[str]:
    """Hub users who are not members of ``group`` (none when there is no hub or no group)."""
    if users is None or group is None:
        return frozenset()
    return frozenset(u["name"] for u in users if group not in (u.get("groups") or ()))


def last_seen(user: Mapping) -> datetime | None:
    """The latest ``last_activity`` of a hub user and their servers."""
    times = [parse_time(user.get("last_activity"))]
    times += [parse_time((s or {}).get("last_activity")) for s in (user.get("servers") or {}).values()]
    times = [t for t in times if t is not None]
    return max(times) if times else None


@dataclass(frozen=True)
class GpuServer:
    """A running server that holds a GPU."""

    user: str
    server: str  # "" is the user's default server
    gpu_ids: list[str]
    profile: str
    started: datetime | None
    last_activity: datetime | None
    ready: bool | None
    in_cohort: bool


def gpu_servers(users: Iterable[Mapping] | None, cohort: Collection[str] = ()) -> list[GpuServer]:
    """Servers that hold a GPU now, longest-held first.

    A server holds a GPU when its spawner state lists ``gpu_ids`` (the one-GPU-server spawner,
    :mod:`arena_hub.gpus`) or its ``user_options`` chose a profile whose slug contains "gpu"
    (KubeSpawner profiles). Stopped servers (``include_stopped_servers``) are skipped.
    """
    from .gpus import STATE_KEY

    out = []
    for user in users or ():
        for name, server in (user.get("servers") or {}).items():
            server = server or {}
            if server.get("stopped"):
                continue
            ids = (server.get("state") or {}).get(STATE_KEY) or []
            ids = [str(i) for i in ids] if isinstance(ids, list) else []
            options = server.get("user_options") or {}
            profile = str(options.get("profile") or "") if isinstance(options, Mapping) else ""
            if ids or "gpu" in profile.lower():
                out.append(GpuServer(user["name"], name, ids, profile,
                                     parse_time(server.get("started")),
                                     parse_time(server.get("last_activity")),
                                     server.get("ready"), user["name"] in cohort))
    far_future = datetime.max.replace(tzinfo=UTC)
    return sorted(out, key=lambda g: (g.started or far_future, g.user, g.server))


# ----------------------------------------------------------------------------------------------
# Grading jobs


@dataclass(slots=True)
class GradingJobRow:
    """One submission's grading, from the engine's state file or a live job."""

    day: str
    student: str
    state: str  # one of JOB_STATES, or "unknown" for an unreadable state file
    reason: str
    seconds: float | None
    timestamp: str  # the graded submission's timestamp.txt
    updated: datetime | None


def read_grading_states(grading_dir: Path) -> list[dict]:
    """The engine's state files (``<grading_dir>/<day>/<student>.json``) as dicts.

    Each dict has ``day`` and ``student`` added, and ``updated`` (the file's time). A file that
    cannot be read comes back with ``ok=None`` and the reason instead of stopping the dashboard.
    """
    out = []
    grading_dir = Path(grading_dir)
    if not grading_dir.is_dir():
        return out
    for day_dir in sorted(os.scandir(grading_dir), key=lambda e: e.name):
        if not day_dir.is_dir():
            continue
        for entry in sorted(os.scandir(day_dir.path), key=lambda e: e.name):
            if not entry.name.endswith(".json") or entry.name.startswith(".") or not entry.is_file():
                continue  # the engine's half-written ".tmp" files, its live-jobs files
            try:
                state = json.loads(Path(entry.path).read_text())
                if not isinstance(state, dict):
                    raise ValueError("not a JSON object")
            except (OSError, ValueError) as e:
                state = {"ok": None, "reason": f"unreadable state file: {e}"}
            state.update(day=day_dir.name, student=entry.name[:-len(".json")],
                         updated=datetime.fromtimestamp(entry.stat().st_mtime, UTC))
            out.append(state)
    return out


def grading_status(states: Iterable[Mapping] = (), jobs: Iterable[Mapping] = ()) -> list[GradingJobRow]:
    """Grading rows: the engine's finished results, overridden by live jobs of the same submission.

    ``states`` are :func:`read_grading_states` dicts (``ok`` true/false, ``reason``, ``seconds``,
    ``timestamp``). ``jobs`` are what a queue reports about work in progress, dicts with ``day``
    (or ``assignment``), ``student``, ``state`` ("queued" or "running") and optionally ``since``:
    :func:`read_live_jobs` reads them from the graders' live files.
    Sorted running, queued, failed, graded, then by day and student.
    """
    rows: dict[tuple[str, str], GradingJobRow] = {}
    for s in states:
        ok = s.get("ok")
        state = "graded" if ok is True else "failed" if ok is False else "unknown"
        rows[(s["day"], s["student"])] = GradingJobRow(
            s["day"], s["student"], state, s.get("reason") or "", s.get("seconds"),
            s.get("timestamp") or "", parse_time(s.get("updated")))
    for j in jobs:
        day = j.get("day") or j.get("assignment")
        rows[(day, j["student"])] = GradingJobRow(
            day, j["student"], j.get("state", "queued"), j.get("reason") or "", j.get("seconds"),
            j.get("timestamp") or "", parse_time(j.get("since")))
    order = {s: i for i, s in enumerate(JOB_STATES)}
    return sorted(rows.values(), key=lambda r: (order.get(r.state, -1), r.day, r.student))


def read_live_jobs(grading_dir: Path, alive: Callable[[int], bool] | None = None) -> list[dict]:
    """Queued and running jobs from the graders' live files (``<day>/.live-<pid>.json``), as
    :func:`grading_status` takes them; a file whose grader process is gone is ignored."""
    import psutil

    alive = alive or psutil.pid_exists
    out = []
    grading_dir = Path(grading_dir)
    for f in sorted(grading_dir.glob("*/.live-*.json")) if grading_dir.is_dir() else []:
        try:
            live = json.loads(f.read_text())
            if not alive(int(live["pid"])):
                continue
            out += [{"day": f.parent.name, "student": student, "state": j["state"], "since": j.get("since")}
                    for student, j in live["jobs"].items()]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # half-written or foreign: the next refresh reads it again
    return out


# ----------------------------------------------------------------------------------------------
# The view


@dataclass(slots=True)
class Cell:
    """One student x day cell of the matrix."""

    student: str
    day: str
    status: str  # one of STATUSES
    score: float | None  # graded only
    max_score: float | None
    late: bool
    timestamp: datetime | None  # of the submission, graded or not
    needs_manual_grade: bool = False
    late_penalty: float = 0.0


@dataclass(frozen=True)
class StudentRow:
    """A student's row: their cells in day order."""

    student: str
    on_hub: bool | None  # False: in the gradebook but no longer a hub user
    cells: list[Cell]

    @property
    def total(self) -> float:
        """The sum of the graded cells' scores."""
        return sum(c.score for c in self.cells if c.score is not None)


@dataclass(frozen=True)
class DayStats:
    """One day across the cohort."""

    day: str
    released: bool
    max_score: float | None
    cohort: int
    fetched: int  # fetched or further
    submitted: int  # handed in: submitted, late or graded
    late: int
    graded: int
    scores: list[float]  # total scores of the graded submissions: the distribution
    completion_rate: float | None  # submitted / cohort; None for an empty cohort
    mean: float | None
    median: float | None


@dataclass(frozen=True)
class TestStat:
    """An autograded test's pass rate across the cohort."""

    __test__ = False  # a name pytest would otherwise try to collect

    day: str
    notebook: str
    test: str
    max_score: float
    graded: int
    passed: int
    pass_rate: float | None  # None: nobody's submission with this test is graded yet
    link: str  # the formgrader's page of this day's notebook


@dataclass(frozen=True)
class AtRisk:
    """A student who needs a look, with every reason in words."""

    student: str
    reasons: list[str]

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


#: Each table of a view and its CSV columns.
TABLES = {
    "matrix": ["student", "day", "status", "score", "max_score", "late", "timestamp",
               "needs_manual_grade", "late_penalty"],
    "days": ["day", "released", "max_score", "cohort", "fetched", "submitted", "late", "graded",
             "completion_rate", "mean", "median", "scores"],
    "tests": ["day", "notebook", "test", "max_score", "graded", "passed", "pass_rate", "link"],
    "at_risk": ["student", "reason"],
    "grading": ["day", "student", "state", "reason", "seconds", "timestamp", "updated"],
    "gpus": ["user", "server", "gpu_ids", "profile", "started", "last_activity", "ready",
             "in_cohort"],
}


@dataclass
class CohortView:
    """Everything the dashboard page shows for one cohort, after the day/student filters."""

    course_id: str
    group: str | None
    generated_at: datetime
    days: list[str]  # shown, in course order
    released: list[str]
    cohort: list[str]  # every student of the cohort (the filters do not narrow it)
    not_on_hub: list[str]  # cohort students the hub no longer knows
    matrix: list[StudentRow]
    per_day: list[DayStats]
    tests: list[TestStat]  # hardest first
    at_risk: list[AtRisk]
    grading: list[GradingJobRow]
    gpus: list[GpuServer]
    filters: dict = field(default_factory=dict)

    @property
    def grading_counts(self) -> dict[str, int]:
        """How many grading rows are in each state."""
        return dict(Counter(r.state for r in self.grading))

    def table(self, name: str) -> tuple[list, list[str]]:
        """Rows and columns of one table (a key of :data:`TABLES`, or "scores")."""
        if name == "scores":
            return self.scores_wide()
        rows = {
            "matrix": [c for r in self.matrix for c in r.cells],
            "days": self.per_day,
            "tests": self.tests,
            "at_risk": [{"student": a.student, "reason": a.reason} for a in self.at_risk],
            "grading": self.grading,
            "gpus": self.gpus,
        }[name]
        return rows, TABLES[name]

    def scores_wide(self) -> tuple[list[dict], list[str]]:
        """The matrix as a spreadsheet: a row per student, a column per day (score or status)."""
        columns = ["student", "on_hub", *self.days, "total"]
        rows = []
        for r in self.matrix:
            row = {"student": r.student, "on_hub": r.on_hub, "total": r.total}
            row.update({c.day: c.score if c.status == GRADED else c.status for c in r.cells})
            rows.append(row)
        return rows, columns

    def csv(self, name: str) -> str:
        """One table as CSV text."""
        return to_csv(*self.table(name))

    def as_dict(self) -> dict:
        """The whole view as JSON-ready data (datetimes as ISO strings)."""
        out = {k: _jsonable(v) for k, v in dataclasses.asdict(self).items()}
        out["grading_counts"] = self.grading_counts
        out["at_risk"] = [{"student": a.student, "reasons": a.reasons, "reason": a.reason}
                          for a in self.at_risk]
        return out


def _jsonable(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # round-trips exactly
    if isinstance(value, (list, tuple)):
        return "; ".join(_csv_value(v) for v in value)
    return str(value)


def to_csv(rows: Iterable, columns: list[str]) -> str:
    """CSV text of ``rows`` (dicts or dataclasses) restricted to ``columns``, header first.

    None is empty, booleans are true/false, datetimes ISO 8601, floats exact, lists "; "-joined.
    """
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(columns)
    for row in rows:
        get = row.get if isinstance(row, Mapping) else (lambda k, r=row: getattr(r, k, None))
        writer.writerow([_csv_value(get(c)) for c in columns])
    return buf.getvalue()


# ----------------------------------------------------------------------------------------------
# Building it


Evidence = Callable[[str, str], object] | Collection[tuple[str, str]] | Mapping | None


def _evidence(source: Evidence) -> Callable[[str, str], object]:
    """Turn a callable, a set of (student, day) pairs or a mapping into a lookup."""
    if source is None:
        return lambda student, day: None
    if callable(source):
        return source
    if isinstance(source, Mapping):
        def look(student, day):
            value = source.get((student, day), False)
            # A key with no timestamp (None) is still evidence.
            return True if value is None else value
        return look
    pairs = source if isinstance(source, (set, frozenset)) else set(source)
    return lambda student, day: (student, day) in pairs


def _as_set(value: str | Iterable[str] | None) -> set[str] | None:
    if value is None:
        return None
    return {value} if isinstance(value, str) else set(value)


def _cell(student: str, day: str, sub: Submission | None, max_score: float | None,
          duedate: datetime | None, fetched, collected) -> Cell:
    if sub is not None and sub.graded:
        return Cell(student, day, GRADED, sub.score, max_score, sub.late, sub.timestamp,
                    sub.needs_manual_grade, sub.late_penalty)
    # Handed in but not graded: in the gradebook without scores, or collected/submitted.
    evidence = collected(student, day)
    if sub is not None or evidence:
        ts = sub.timestamp if sub is not None else None
        if ts is None and not isinstance(evidence, bool):
            try:
                ts = parse_time(evidence)
            except (ValueError, TypeError, OverflowError):
                ts = None  # handed in, time unknown: not judged late
        due = sub.duedate if sub is not None else duedate
        late = _is_late(ts, due)
        return Cell(student, day, LATE if late else SUBMITTED, None, max_score, late, ts)
    status = FETCHED if fetched(student, day) else NOT_FETCHED
    return Cell(student, day, status, None, max_score, False, None)


def _day_stats(day: str, cells: list[Cell], released: bool, max_score: float | None) -> DayStats:
    n = len(cells)
    counts = Counter(c.status for c in cells)
    scores = [c.score for c in cells if c.status == GRADED and c.score is not None]
    submitted = sum(counts[s] for s in HANDED_IN)
    late = sum(1 for c in cells if c.late and c.status in HANDED_IN)
    return DayStats(day, released, max_score, n, n - counts[NOT_FETCHED], submitted, late,
                    counts[GRADED], scores, submitted / n if n else None,
                    statistics.fmean(scores) if scores else None,
                    statistics.median(scores) if scores else None)


def _pct(score: float, max_score: float | None) -> str:
    return f"{100 * score / max_score:.0f}%" if max_score else f"{score:g}"


def at_risk(matrix: list[StudentRow], per_day: Mapping[str, DayStats], *,
            hub_users: Mapping[str, Mapping] | None = None, now: datetime | None = None,
            inactive_days: int | None = 7) -> list[AtRisk]:
    """Students at risk and why, worst (most reasons) first.

    - missing: a released day that at least half of the cohort has handed in, but not they;
    - falling: their last two graded days each scored lower (as a fraction of the day's points)
      than the one before, and the last is below the cohort's median of that day;
    - inactive: no hub activity for ``inactive_days`` days (or none ever), from ``last_activity``
      of the user and their servers. Students not on the hub are not judged on activity.
    ``per_day`` must cover every day of the rows, computed over the whole cohort.
    """
    now = now or datetime.now(UTC)
    out = []
    for row in matrix:
        reasons = []
        missing = []
        for c in row.cells:
            d = per_day.get(c.day)
            if (d is not None and d.released and c.status not in HANDED_IN and d.submitted > 0
                    and 2 * d.submitted >= d.cohort):
                missing.append(f"{c.day} (handed in by {d.submitted}/{d.cohort})")
        if missing:
            reasons.append("missing submission" + ("s" if len(missing) > 1 else "") + ": "
                           + ", ".join(missing))
        graded = [c for c in row.cells if c.status == GRADED and c.score is not None and c.max_score]
        if len(graded) >= 3:
            a, b, c = graded[-3:]
            fa, fb, fc = (x.score / x.max_score for x in (a, b, c))
            median = per_day[c.day].median if c.day in per_day else None
            if fa > fb > fc and median is not None and c.score < median:
                reasons.append(
                    f"falling scores: {_pct(a.score, a.max_score)} ({a.day}) → "
                    f"{_pct(b.score, b.max_score)} ({b.day}) → {_pct(c.score, c.max_score)} "
                    f"({c.day}), below the cohort median of {_pct(median, c.max_score)}")
        if inactive_days is not None and hub_users is not None and row.student in hub_users:
            seen = last_seen(hub_users[row.student])
            if seen is None:
                reasons.append("no activity on the hub yet")
            elif now - seen >= timedelta(days=inactive_days):
                reasons.append(f"inactive for {(now - seen).days} days "
                               f"(last seen {seen.date().isoformat()})")
        if reasons:
            out.append(AtRisk(row.student, reasons))
    return sorted(out, key=lambda a: (-len(a.reasons), a.student))


def build(gradebook_url: str, *, course_id: str = COURSE_ID, days: Iterable[str] | None = None,
          released: Iterable[str] | None = None, users: Iterable[Mapping] | None = None,
          group: str | None = None, fetched: Evidence = None, submitted: Evidence = None,
          grading_states: Iterable[Mapping] = (), jobs: Iterable[Mapping] = (),
          now: datetime | None = None, inactive_days: int | None = 7,
          day: str | Iterable[str] | None = None, student: str | Iterable[str] | None = None,
          formgrader_url: str = FORMGRADER_URL) -> CohortView:
    """Build the dashboard's view of one cohort.

    ``days``: the course's days in course order (gradebook days not listed are appended);
    default: the gradebook's. ``released``: the released days (default: every gradebook day);
    a day somebody handed in counts as released whatever the list says.
    ``users``: the hub's ``GET /hub/api/users`` answer (None: the hub was not asked, so nobody
    is marked deleted or inactive and no GPU server is listed). ``group``: the hub group that is
    the cohort (see :func:`cohort_of`). ``fetched``: who fetched what, as a callable
    ``(student, day) -> bool`` or a set of pairs. ``submitted``: handed-in submissions the
    gradebook does not have yet (collected, not graded), as a callable returning the
    timestamp (or True) or a mapping ``(student, day) -> timestamp`` or a set of pairs.
    ``grading_states`` / ``jobs``: see :func:`grading_status`.
    ``day`` / ``student``: filters. They narrow the matrix, the per-day and per-test tables and
    the grading and at-risk rows; the cohort-wide figures (completion, medians, pass rates,
    "most of the cohort handed it in") stay computed over the whole cohort.
    """
    now = now or datetime.now(UTC)
    users = None if users is None else list(users)
    excluded = outside_group(users, group)
    gb = read_gradebook(gradebook_url, course_id, exclude_students=excluded)
    cohort = cohort_of(gb.students, users, group)

    all_days = list(dict.fromkeys([*(days or ()), *gb.days]))
    is_fetched, is_collected = _evidence(fetched), _evidence(submitted)
    rows = []
    for s in cohort.students:
        cells = [_cell(s, d, gb.submissions.get((s, d)), gb.max_scores.get(d), gb.duedates.get(d),
                       is_fetched, is_collected) for d in all_days]
        rows.append(StudentRow(s, cohort.on_hub[s], cells))

    released_set = set(gb.days if released is None else released)
    by_day: dict[str, list[Cell]] = defaultdict(list)
    for r in rows:
        for c in r.cells:
            by_day[c.day].append(c)
    for d in all_days:
        if any(c.status in HANDED_IN for c in by_day[d]):
            released_set.add(d)
    per_day = {d: _day_stats(d, by_day[d], d in released_set, gb.max_scores.get(d))
               for d in all_days}

    order = {d: i for i, d in enumerate(all_days)}
    tests = [TestStat(t.day, t.notebook, t.name, t.max_score, t.graded, t.passed,
                      t.passed / t.graded if t.graded else None,
                      f"{formgrader_url}/gradebook/{t.day}/{t.notebook}")
             for t in gb.tests]
    # Hardest first; tests nobody has been graded on yet go last.
    tests.sort(key=lambda t: (t.pass_rate is None, t.pass_rate or 0.0, order.get(t.day, 0),
                              t.notebook, t.test))

    users_by_name = None if users is None else {u["name"]: u for u in users}
    risky = at_risk(rows, per_day, hub_users=users_by_name, now=now, inactive_days=inactive_days)
    grading = [g for g in grading_status(grading_states, jobs) if g.student not in excluded]
    gpus = gpu_servers(users, set(cohort.students))

    days_f, students_f = _as_set(day), _as_set(student)
    shown_days = [d for d in all_days if days_f is None or d in days_f]
    keep_day = (lambda d: True) if days_f is None else days_f.__contains__
    keep_student = (lambda s: True) if students_f is None else students_f.__contains__
    if days_f is not None:
        rows = [StudentRow(r.student, r.on_hub, [c for c in r.cells if keep_day(c.day)]) for r in rows]
    return CohortView(
        course_id=course_id, group=group, generated_at=now, days=shown_days,
        released=[d for d in all_days if d in released_set], cohort=cohort.students,
        not_on_hub=[s for s in cohort.students if cohort.on_hub[s] is False],
        matrix=[r for r in rows if keep_student(r.student)],
        per_day=[per_day[d] for d in shown_days],
        tests=[t for t in tests if keep_day(t.day)],
        at_risk=[a for a in risky if keep_student(a.student)],
        grading=[g for g in grading if keep_day(g.day) and keep_student(g.student)],
        gpus=[g for g in gpus if keep_student(g.user)],
        filters={"day": sorted(days_f) if days_f else None,
                 "student": sorted(students_f) if students_f else None},
    )


# ----------------------------------------------------------------------------------------------
# The embedded default's inputs


def released_days(layout: Layout, days: Iterable[str]) -> list[str]:
    """Days released to students: in the exchange's ``outbound/`` (nbgrader release_assignment).

    ``release/`` is no evidence: it is generated and committed for every authored day.
    """
    outbound = layout.exchange / COURSE_ID / "outbound"
    return [d for d in days if (outbound / d).is_dir()]


def fetched_pairs(layout: Layout, days: Iterable[str]) -> set[tuple[str, str]]:
    """(student, day) for each ``runtime/home/<student>/<day>/`` (where a fetch puts a day)."""
    days = set(days)
    out = set()
    home = layout.runtime / "home"
    try:
        homes = list(os.scandir(home))
    except OSError:
        return out
    for entry in homes:
        try:
            if entry.is_dir():
                out.update((entry.name, e.name) for e in os.scandir(entry.path)
                           if e.name in days and e.is_dir())
        except OSError:
            continue  # a home that vanished or is not ours to read
    return out


def collected_submissions(layout: Layout) -> dict[tuple[str, str], str | bool]:
    """Handed-in submissions on disk: ``(student, day) -> timestamp`` (True when unknown).

    The exchange's ``inbound/`` (submitted, not collected yet; named
    ``<student>+<day>+<timestamp>[+<random>]``) and ``submitted/<student>/<day>/`` (collected);
    the latest timestamp wins.
    """
    found: dict[tuple[str, str], str | bool] = {}

    def add(key, ts):
        old = found.get(key)
        if old is None or old is True or (ts is not True and parse_time(ts) > parse_time(old)):
            found[key] = ts

    inbound = layout.exchange / COURSE_ID / "inbound"
    try:
        for entry in os.scandir(inbound):
            parts = entry.name.split("+")
            if len(parts) >= 3:
                try:
                    add((parts[0], parts[1]), parts[2] if parse_time(parts[2]) else True)
                except (ValueError, OverflowError):
                    add((parts[0], parts[1]), True)
    except OSError:
        pass  # no exchange here, or not listable by us
    try:
        students = list(os.scandir(layout.submitted))
    except OSError:
        students = []
    for s in students:
        if not s.is_dir():
            continue
        for d in os.scandir(s.path):
            if d.is_dir():
                ts = Path(d.path, "timestamp.txt")
                text = ts.read_text().strip() if ts.is_file() else ""
                try:
                    add((s.name, d.name), text if text and parse_time(text) else True)
                except (ValueError, OverflowError):
                    add((s.name, d.name), True)
    return found


def from_layout(layout: Layout, *, users: Iterable[Mapping] | None = None, group: str | None = None,
                jobs: Iterable[Mapping] = (), **kwargs) -> CohortView:
    """:func:`build` with the embedded default's inputs read from the course's files.

    Days from ``source/``, released days from the exchange, fetches from ``runtime/home``,
    handed-in submissions from the exchange and ``submitted/``, grading results from
    ``runtime/grading``. Other keyword arguments go to :func:`build`.
    """
    days = layout.assignment_ids()
    kwargs.setdefault("days", days)
    kwargs.setdefault("released", released_days(layout, days))
    kwargs.setdefault("fetched", fetched_pairs(layout, days))
    kwargs.setdefault("submitted", collected_submissions(layout))
    kwargs.setdefault("grading_states", read_grading_states(layout.runtime / "grading"))
    jobs = [*read_live_jobs(layout.runtime / "grading"), *jobs]
    return build(layout.gradebook_url, users=users, group=group, jobs=jobs, **kwargs)
