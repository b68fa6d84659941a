"""The gradebook side of grading: a template a run starts from, and importing its results.

A run never sees the course gradebook. It gets a copy holding only the assignment's definition
(cells, checksums, hidden tests, due date: what ``nbgrader autograde`` reads) and no student,
and writes its grades there. The engine then copies them into the course gradebook exactly as
nbgrader's ``SaveAutoGrades`` and ``AssignLatePenalties`` would have written them.
"""

from __future__ import annotations

import shutil
import sqlite3
import warnings
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from ..course import COURSE_ID


def sqlite_path(db_url: str) -> Path:
    if not _is_sqlite(db_url):
        raise ValueError(f"not an sqlite gradebook: {db_url!r}")
    return Path(db_url[len("sqlite:///"):])


DEFINITION = ("course", "assignment", "notebook", "base_cell", "source_cell", "grade_cells",
              "solution_cells", "task_cells")  # nbgrader's tables that hold no student data


def _is_sqlite(db_url: str) -> bool:
    return db_url.startswith("sqlite:///")


def _copy_definition(course_db_url: str, tmp: Path) -> None:
    """A server gradebook (PostgreSQL) -> an sqlite one holding only its assignment definitions."""
    from nbgrader.api import Base
    from sqlalchemy import create_engine

    Gradebook(f"sqlite:///{tmp}", COURSE_ID).close()  # nbgrader's schema, empty
    src, dst = create_engine(course_db_url), create_engine(f"sqlite:///{tmp}")
    try:
        with src.connect() as a, dst.begin() as b:
            for table in Base.metadata.sorted_tables:
                if table.name in DEFINITION:
                    rows = [dict(r._mapping) for r in a.execute(table.select())]
                    b.execute(table.delete())
                    if rows:
                        b.execute(table.insert(), rows)
    finally:
        src.dispose()
        dst.dispose()


def make_template(course_db_url: str, assignment_id: str, dest: Path) -> Path:
    """Copy the course gradebook, keep only ``assignment_id``'s definition, drop all students."""
    if _is_sqlite(course_db_url) and not sqlite_path(course_db_url).exists():
        raise ValueError(f"{assignment_id} is not in the gradebook (there is no gradebook yet): "
                         "generate it first (`arena-hub build` or the formgrader's Generate button)")
    with Gradebook(course_db_url, COURSE_ID) as gb:
        try:
            gb.find_assignment(assignment_id)
        except MissingEntry:
            raise ValueError(
                f"{assignment_id} is not in the gradebook: generate it first "
                "(`arena-hub build` or the formgrader's Generate button)"
            ) from None
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    if _is_sqlite(course_db_url):
        # sqlite's backup API copies a consistent snapshot even while the formgrader writes.
        src = sqlite3.connect(sqlite_path(course_db_url))
        out = sqlite3.connect(tmp)
        src.backup(out)
        src.close()
        out.close()
    else:  # PostgreSQL: runs always get an sqlite template (one private file per run)
        _copy_definition(course_db_url, tmp)
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{tmp}", COURSE_ID) as gb:
        warnings.simplefilter("ignore")  # SQLAlchemy notes cascades while rows go; harmless
        for a in list(gb.assignments):
            if a.name != assignment_id:
                gb.remove_assignment(a.name)
        for s in list(gb.students):
            gb.remove_student(s.id)
    out = sqlite3.connect(tmp)
    out.execute("VACUUM")  # no freed page keeps another student's data
    out.close()
    shutil.move(tmp, dest)
    return dest


def import_results(work_db: Path, course_db_url: str, assignment_id: str, student_id: str) -> dict:
    """Copy one student's autograde results from a run's gradebook; return {cell: score}."""
    scores = {}
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{work_db}", COURSE_ID) as src, \
            Gradebook(course_db_url, COURSE_ID) as dst:
        warnings.simplefilter("ignore")  # nbgrader's own autoflush notes on new submissions
        sub = src.find_submission(assignment_id, student_id)
        dst.update_or_create_student(student_id)
        dst.update_or_create_submission(assignment_id, student_id, timestamp=sub.timestamp)
        for nb in sub.notebooks:
            target = dst.find_submission_notebook(nb.name, assignment_id, student_id)
            target.late_submission_penalty = nb.late_submission_penalty
            for g in nb.grades:
                grade = dst.find_grade(g.name, nb.name, assignment_id, student_id)
                grade.auto_score = g.auto_score
                grade.needs_manual_grade = grade.manual_score is not None or g.auto_score is None
                scores[g.name] = g.auto_score
            for c in nb.comments:
                dst.find_comment(c.name, nb.name, assignment_id, student_id).auto_comment = c.auto_comment
        dst.db.commit()
    return scores


def record_failure(course_db_url: str, assignment_id: str, student_id: str, timestamp: str) -> None:
    """A run that could not finish scores 0 on every autograded cell (and says why elsewhere)."""
    with warnings.catch_warnings(), Gradebook(course_db_url, COURSE_ID) as gb:
        warnings.simplefilter("ignore")
        gb.update_or_create_student(student_id)
        kwargs = {"timestamp": timestamp} if timestamp else {}
        sub = gb.update_or_create_submission(assignment_id, student_id, **kwargs)
        for nb in sub.notebooks:
            manual = {c.name for c in nb.notebook.solution_cells}  # written answers: graded by hand
            for grade in nb.grades:
                if grade.name not in manual:
                    grade.auto_score = 0
                    grade.needs_manual_grade = grade.manual_score is not None
        gb.db.commit()
