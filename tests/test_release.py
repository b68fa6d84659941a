"""release/ is what students get: fresh, and free of solutions, hidden tests and grader files."""

from __future__ import annotations

import shutil

import nbformat
import pytest

from arena_hub import release
from arena_hub.course import Layout
from tests.helpers import REPO, scratch_course

LAYOUT = Layout.from_env({})


def test_release_is_fresh():
    problems = release.stale(LAYOUT)
    assert not problems, "release/ is stale; run `.venv/bin/arena-hub build`:\n" + "\n".join(problems)


def test_release_leaks_nothing():
    problems = release.leaks(LAYOUT)
    assert not problems, "\n".join(problems)


def test_every_source_day_is_released():
    assert LAYOUT.assignment_ids(), "no assignments in source/"
    for aid in LAYOUT.assignment_ids():
        assert (LAYOUT.release / aid / f"{aid}.ipynb").is_file(), f"{aid} is not in release/"


@pytest.fixture
def scratch(tmp_path):
    return scratch_course(tmp_path)


def _release_nb(layout, aid="c0d0-prereqs"):
    return layout.release / aid / f"{aid}.ipynb"


def test_leak_check_catches_solution_code(scratch):
    path = _release_nb(scratch)
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "batched_softmax")
    src = nbformat.read(scratch.source / "c0d0-prereqs" / "c0d0-prereqs.ipynb", as_version=4)
    ref = next(c for c in src.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "batched_softmax")
    cell.source = ref.source.replace("### BEGIN SOLUTION\n", "").replace("### END SOLUTION", "")
    nbformat.write(nb, path)
    problems = release.leaks(scratch)
    assert any("contains solution or hidden-test code" in p and "shifted" in p for p in problems), problems


def test_leak_check_catches_hidden_tests_and_markers(scratch):
    path = _release_nb(scratch)
    text = path.read_text().replace("raise NotImplementedError()", "### BEGIN HIDDEN TESTS", 1)
    path.write_text(text)
    assert any("marker" in p for p in release.leaks(scratch))


def test_leak_check_catches_instructor_files_and_metadata(scratch):
    shutil.copy(scratch.source / "c0d0-prereqs" / "assignment.toml", scratch.release / "c0d0-prereqs")
    path = _release_nb(scratch)
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].metadata["grader_notes"] = "watch the off-by-one in sample_distribution"
    nbformat.write(nb, path)
    problems = release.leaks(scratch)
    assert any("assignment.toml: instructor-only file" in p for p in problems), problems
    assert any("['grader_notes'] is instructor-only" in p for p in problems), problems


def test_stale_check_catches_an_edited_source(scratch):
    path = scratch.source / "c0d0-prereqs" / "c0d0-prereqs.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source += "\n\nOne more sentence."
    nbformat.write(nb, path)
    assert release.stale(scratch) == ["release/c0d0-prereqs/c0d0-prereqs.ipynb differs from a fresh build"]
