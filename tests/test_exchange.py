"""Student identity from the hub, and the submission checks of our nbgrader submit plugin."""

from __future__ import annotations

import shutil

import nbformat
import pytest
from traitlets.config import Config

from arena_hub.exchange import IdentityError, configure_student, hub_student_id, submission_problems
from tests.helpers import REPO

AID = "c0d0-prereqs"


def test_identity_comes_from_the_hub_not_the_os_user():
    c = Config()
    configure_student(c, env={"JUPYTERHUB_USER": "alice", "ARENA_HUB_EXCHANGE_DIR": "/x/exchange"})
    assert c.CourseDirectory.student_id == "alice"
    assert c.CourseDirectory.course_id == "arena"
    assert c.Exchange.root == "/x/exchange"
    assert c.ExchangeFactory.submit == "arena_hub.exchange.CheckedSubmit"


@pytest.mark.parametrize("env, message", [
    ({}, "JUPYTERHUB_USER is not set"),
    ({"JUPYTERHUB_USER": "a+b"}, "cannot file"),
    ({"JUPYTERHUB_USER": "a*"}, "cannot file"),
])
def test_identity_errors(env, message):
    with pytest.raises(IdentityError, match=message):
        hub_student_id(env)


@pytest.fixture
def dirs(tmp_path):
    release = REPO / "release" / AID
    mine = tmp_path / AID
    shutil.copytree(release, mine)
    return mine, release


def test_untouched_submission_is_fine(dirs):
    assert submission_problems(*dirs) == []


def test_malformed_notebook_is_refused(dirs):
    mine, release = dirs
    (mine / f"{AID}.ipynb").write_text('{"cells": [')
    [problem] = submission_problems(mine, release)
    assert "is not a valid notebook" in problem


def test_missing_notebook_is_refused(dirs):
    mine, release = dirs
    (mine / f"{AID}.ipynb").unlink()
    assert submission_problems(mine, release) == [f"{AID}.ipynb is missing from your assignment folder"]


def test_deleted_or_stripped_grade_cells_are_refused(dirs):
    mine, release = dirs
    path = mine / f"{AID}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "test_gather_2d"]
    next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "gather_2d").metadata = {}
    nbformat.write(nb, path)
    [problem] = submission_problems(mine, release)
    assert "gather_2d, test_gather_2d were deleted" in problem
