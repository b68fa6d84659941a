"""The gradebook on a real PostgreSQL server: two graders and the formgrader at once lose nothing.

SQLite is unsafe with several graders at once (nbgrader FAQ), so production profiles point
``ARENA_HUB_GRADEBOOK_URL`` (and the hub's ``ARENA_HUB_DB_URL``) at PostgreSQL. The test starts
Debian's PostgreSQL on loopback (a throwaway cluster with trust authentication for its own user,
stopped by PID), generates the day into it with nbgrader, runs two ``arena-hub grade`` processes
at once on disjoint students while an instructor adds students through nbgrader and the
formgrader's API writes a manual grade, then reads everything back through nbgrader's own API
(what the formgrader shows).
"""

from __future__ import annotations

import glob
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from arena_hub import release
from arena_hub.course import COURSE_ID
from arena_hub.grading import engine
from tests import mutants
from tests.conftest import free_ports
from tests.helpers import notebook, scores, scratch_course, submit_files

AID = "c0d0-prereqs"
BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


@pytest.fixture(scope="module")
def postgres():
    import psycopg

    if not BIN:
        pytest.fail("PostgreSQL is not installed (bin/setup --for-tests installs Debian's postgresql)")
    bindir = Path(BIN[-1])
    root = Path(tempfile.mkdtemp(prefix="arena-hub-pg-"))
    # PostgreSQL refuses to run as root: as root, run it as the package's `postgres` user.
    as_user = {"user": "postgres", "group": "postgres"} if os.geteuid() == 0 else {}
    if as_user:
        shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", free_ports(1)[0]
    subprocess.run([bindir / "initdb", "-D", data, "-U", "arena", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True, **as_user)
    proc = subprocess.Popen([bindir / "postgres", "-D", data, "-h", "127.0.0.1", "-p", str(port),
                             "-k", root, "-c", "max_connections=60"],
                            stdout=subprocess.DEVNULL, stderr=open(root / "server.log", "w"), **as_user)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = psycopg.connect(host="127.0.0.1", port=port, user="arena", dbname="postgres",
                                       autocommit=True)
                break
            except psycopg.OperationalError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("PostgreSQL did not start: " + (root / "server.log").read_text()[-2000:])
                time.sleep(0.2)
        conn.cursor().execute("CREATE DATABASE gradebook")
        conn.close()
        yield f"postgresql://arena@127.0.0.1:{port}/gradebook"
    finally:
        proc.send_signal(signal.SIGINT)  # fast shutdown
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(root, ignore_errors=True)


def test_two_graders_and_the_formgrader_at_once_lose_nothing(postgres, tmp_path):
    layout = replace(scratch_course(tmp_path), gradebook_url=postgres)
    release.build(layout, [AID])  # nbgrader generate_assignment writes the definition to PostgreSQL
    src, rel = notebook(layout, "source", AID), notebook(layout, "release", AID)
    bugs = mutants.for_day(AID)[:4]
    subs = {**{f"ref{i}": src for i in range(3)}, **{f"blank{i}": rel for i in range(2)},
            **{f"bug{i}": mutants.apply(src, m) for i, m in enumerate(bugs)}}
    submit_files(layout, AID, subs)
    students = sorted(subs)
    halves = [students[0::2], students[1::2]]

    env = release.nbgrader_env(layout)
    graders = [subprocess.Popen([sys.executable, "-m", "arena_hub", "grade", AID, "--workers", "1",
                                 *[a for s in half for a in ("--student", s)]],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for half in halves]
    # Meanwhile an instructor adds students (nbgrader's CLI) and keeps writing to the gradebook.
    added = [f"late{i}" for i in range(4)]
    errors = []

    def instructor():
        for s in added:
            proc = release.nbgrader(layout, "db", "student", "add", s, "--first-name", s)
            if proc.returncode:
                errors.append(proc.stderr[-500:])

    t = threading.Thread(target=instructor)
    t.start()
    try:
        outs = [g.communicate(timeout=900)[0] for g in graders]
    finally:
        for g in graders:
            if g.poll() is None:
                g.kill()
                g.wait()
    t.join()
    assert all(g.returncode == 0 for g in graders), outs
    assert not errors, errors

    full = sum(scores(layout, AID, "ref0").values())
    assert full == 100
    for s in students:
        got = scores(layout, AID, s)
        expect = full if s.startswith("ref") else 0 if s.startswith("blank") else None
        if expect is not None:
            assert sum(got.values()) == expect, (s, got)
        else:
            m = bugs[int(s[3:])]
            assert {k for k, v in got.items() if v == 0} >= m.fails, (s, got)

    # The formgrader's API (nbgrader's own, reading the same database) sees every submission;
    # a manual grade written through it overrides the autograde.
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    from arena_hub.course import configure_nbgrader

    c = Config()
    configure_nbgrader(c, layout)
    api = NbGraderAPI(CourseDirectory(config=c, root=str(layout.course_root)), config=c)
    listed = {s["student"]: s for s in api.get_submissions(AID)}
    assert set(students) <= set(listed), sorted(listed)
    assert set(added) <= {s["id"] for s in api.get_students()}, "students added meanwhile were lost"
    assert all(listed[s]["autograded"] for s in students)
    assert listed["ref0"]["score"] == 100 and listed["blank0"]["score"] == 0
    with Gradebook(postgres, COURSE_ID) as gb:
        grade = gb.find_grade("test_rearrange_1", AID, AID, "blank0")
        grade.manual_score = grade.max_score
        gb.db.commit()
    listed = {s["student"]: s for s in api.get_submissions(AID)}
    assert listed["blank0"]["score"] == 4

    # A regrade by either grader is idempotent: nothing is graded twice.
    report = engine.grade(layout, AID, workers=1, stream=io.StringIO())
    assert not report.graded and len(report.skipped) == len(students)
