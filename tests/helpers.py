"""Shared test helpers: scratch course directories and real nbgrader autograding."""

from __future__ import annotations

import json
import shutil
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from arena_hub import release
from arena_hub.course import COURSE_ID, Layout

REPO = Layout.from_env({}).course_root


def scratch_course(tmp: Path, with_release: bool = True) -> Layout:
    """A copy of the course (source/, release/, nbgrader config) with its own runtime state."""
    layout = Layout(tmp / "course", tmp / "data", tmp / "data" / "runtime" / "exchange",
                    f"sqlite:///{tmp / 'data' / 'gradebook.db'}")
    layout.course_root.mkdir(parents=True)
    layout.data_dir.mkdir(parents=True)
    shutil.copytree(REPO / "source", layout.source)
    if with_release:
        shutil.copytree(REPO / "release", layout.release)
    shutil.copy(REPO / "nbgrader_config.py", layout.course_root)
    return layout


def notebook(layout: Layout, step: str, assignment_id: str, name: str | None = None) -> nbformat.NotebookNode:
    """One notebook of a day (``name`` without .ipynb; default the core notebook, named as the day)."""
    base = layout.source if step == "source" else layout.release
    return nbformat.read(base / assignment_id / f"{name or assignment_id}.ipynb", as_version=4)


def notebook_names(layout: Layout, assignment_id: str) -> list[str]:
    """The day's notebooks, core first (``<id>.ipynb``), then e.g. ``<id>-bonus.ipynb``."""
    names = sorted(p.stem for p in (layout.source / assignment_id).glob("*.ipynb"))
    return sorted(names, key=lambda n: n != assignment_id)


def graded_cells(nb) -> dict[str, float]:
    """grade_id -> points of every autograded test cell."""
    return {
        c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"
    }


def submit_files(layout: Layout, assignment_id: str, submissions: dict[str, nbformat.NotebookNode],
                 name: str | None = None):
    """File one notebook (default the core one) per student; nbgrader scores a missing notebook 0."""
    for student, nb in submissions.items():
        dest = layout.data_dir / "submitted" / student / assignment_id
        dest.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dest / f"{name or assignment_id}.ipynb")


def scores(layout: Layout, assignment_id: str, student: str, name: str | None = None) -> dict[str, float]:
    """grade cell -> score of one student's autograded notebook (default the core one), from the gradebook."""
    with Gradebook(layout.gradebook_url, COURSE_ID) as gb:
        nb = gb.find_submission_notebook(name or assignment_id, assignment_id, student)
        return {g.name: g.score for g in nb.grades}


def autograde(layout: Layout, assignment_id: str, submissions: dict[str, nbformat.NotebookNode],
              name: str | None = None):
    """Generate the assignment, file the submissions, run `nbgrader autograde` once for all."""
    release.build(layout, [assignment_id])
    submit_files(layout, assignment_id, submissions, name)
    proc = release.nbgrader(layout, "autograde", assignment_id, "--force")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {student: scores(layout, assignment_id, student, name) for student in submissions}


class JsonHandler(BaseHTTPRequestHandler):
    """Base of the fake HTTP APIs the tests start on loopback: JSON replies, no access log."""

    def send_json(self, code: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass
