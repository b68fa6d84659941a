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


def test_per_student_folders_collect_and_release_feedback(tmp_path, monkeypatch):
    """The container layout: each student's server sees ``outbound/`` and only its own
    ``inbound/<name>`` and ``feedback/<name>`` (symlinks stand in for the mounts here; the Docker
    and Helm deployments mount them). Student-side nbgrader is unchanged; the instructor collects
    from every folder, ignores a file that claims another student, and each student's feedback
    lands where only that student's server can see it."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from arena_hub import release
    from arena_hub.exchange import PER_STUDENT_ENV, ensure_exchange
    from arena_hub.hub import HUB_CONFIG_DIR
    from tests.helpers import scratch_course

    monkeypatch.setenv(PER_STUDENT_ENV, "1")
    layout = scratch_course(tmp_path)
    release.build(layout, [AID])
    course = ensure_exchange(layout) / "arena"

    def instructor(*args):
        proc = release.nbgrader(layout, *args)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout + proc.stderr

    def student(user, *args):
        home, view = tmp_path / "home" / user, tmp_path / "view" / user / "arena"
        if not view.exists():
            home.mkdir(parents=True)
            view.mkdir(parents=True)
            (view / "outbound").symlink_to(course / "outbound")
            for sub in ("inbound", "feedback"):
                (course / sub / user).mkdir(parents=True, exist_ok=True)
                (view / sub).symlink_to(course / sub / user)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ARENA_HUB_")}
        env.update(JUPYTERHUB_USER=user, ARENA_HUB_EXCHANGE_DIR=str(view.parent),
                   JUPYTER_CONFIG_PATH=str(HUB_CONFIG_DIR / "student"))
        proc = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), *args], cwd=home,
                              env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return home

    instructor("release_assignment", AID, "--force")
    for user in ("alice", "bob"):
        student(user, "fetch_assignment", AID)
        student(user, "submit", AID)
    # alice names a copy of her work as bob's, later than his: it must not be collected.
    (mine,) = (course / "inbound" / "alice").iterdir()
    forged = course / "inbound" / "alice" / mine.name.replace("alice+", "bob+").replace("+20", "+21", 1)
    shutil.copytree(mine, forged)
    (bob_sub,) = (course / "inbound" / "bob").iterdir()

    log = instructor("collect", AID)
    assert "ignored" in log and "names bob" in log, log
    assert (layout.submitted / "alice" / AID / f"{AID}.ipynb").is_file()
    bob_stamp = (layout.submitted / "bob" / AID / "timestamp.txt").read_text().strip()
    assert bob_stamp == (bob_sub / "timestamp.txt").read_text().strip(), "bob's own submission was collected"

    instructor("autograde", AID, "--force")
    instructor("generate_feedback", AID, "--force")
    instructor("release_feedback", AID)
    assert not list((course / "feedback").glob("*.html")), "feedback must go to per-student folders"
    for user in ("alice", "bob"):
        assert len(list((course / "feedback" / user).glob("*.html"))) == 1, user
    home = student("alice", "fetch_feedback", AID)
    fetched = list((home / AID / "feedback").glob(f"*/{AID}.html"))
    assert len(fetched) == 1, "alice fetches her feedback"
    assert fetched[0].read_text() == (layout.feedback / "alice" / AID / f"{AID}.html").read_text()
    # what alice's server can see of the feedback folder is hers only
    assert len(os.listdir(tmp_path / "view" / "alice" / "arena" / "feedback")) == 1
