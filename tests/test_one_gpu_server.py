"""One GPU server, end to end with the real Docker engine: the hub profile
``hub_config/one_gpu_server.py`` spawns each student a container of the student image; two
students fetch and submit through their JupyterLab's nbgrader API, the instructor collects and
grades with the docker backend (grader image) and releases feedback; each student sees only
their own files. GPUs cannot be handed out here (no GPU, no NVIDIA runtime): the allocator and
the spawner's refusal are tested without an engine (tests/test_gpus.py, tests/test_spawner.py).

The engine here has no bridge network, so containers use the host's network on loopback
(``ARENA_HUB_DOCKER_NETWORK=host``); production uses a Docker network (docker/README.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from arena_hub.hub import HUB_CONFIG_DIR
from tests.conftest import ARTIFACTS, docker, running_hub
from tests.helpers import scratch_course
from tests.test_hub import AID, NB_PATH, formgrader, read_nb, student_action, with_solutions, write

EXCHANGE = "/srv/nbgrader/exchange/arena"


@pytest.fixture(scope="module")
def server(docker_engine, images, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("one-gpu-server")
    env = {"DOCKER_HOST": docker_engine.env["DOCKER_HOST"], "ARENA_HUB_DOCKER_NETWORK": "host",
           "ARENA_HUB_STUDENT_IMAGE": images.student, "ARENA_HUB_MEM_LIMIT": "3G", "ARENA_HUB_CPU_LIMIT": "1.5"}
    try:
        with running_hub(tmp, scratch_course(tmp), config=HUB_CONFIG_DIR / "one_gpu_server.py", env=env) as hub:
            yield hub
    finally:
        (ARTIFACTS / "hub-one-gpu-server.log").write_text((tmp / "hub.log").read_text())
        ids = docker(docker_engine, "ps", "-aq", "--filter", "name=arena-hub-", check=False).stdout.split()
        if ids:
            docker(docker_engine, "rm", "--force", *ids, check=False)
        vols = docker(docker_engine, "volume", "ls", "-q", "--filter", "name=arena-hub-home-", check=False).stdout.split()
        if vols:
            docker(docker_engine, "volume", "rm", *vols, check=False)


def in_container(engine_, user, script: str) -> subprocess.CompletedProcess:
    return docker(engine_, "exec", f"arena-hub-{user}", "sh", "-c", script, check=False)


def test_two_students_fetch_submit_get_graded_by_containers_and_see_only_their_own(server, docker_engine, images):
    hub, layout = server, server.layout
    source = nbformat.read(layout.source / AID / f"{AID}.ipynb", as_version=4)
    formgrader(hub, "POST", f"/assignment/{AID}/assign")
    formgrader(hub, "POST", f"/assignment/{AID}/release")

    spawn = {user: hub.start_server(user, timeout=180) for user in ("alice", "bob")}
    (ARTIFACTS / "spawn-seconds-docker.json").write_text(json.dumps(spawn))
    for user in ("alice", "bob"):
        inspect = json.loads(docker(docker_engine, "inspect", f"arena-hub-{user}").stdout)[0]
        assert inspect["Config"]["Image"] == images.student
        assert inspect["HostConfig"]["Memory"] == 3 * 1024**3, "the memory limit reaches the container"
        assert inspect["HostConfig"]["CpuQuota"] == 150_000, "the CPU limit reaches the container"
        assert in_container(docker_engine, user, "id -u").stdout.strip() == "1000"
        assert hub.api(user, "GET", f"/user/{user}/formgrader").status_code == 404, "students get no formgrader"
        listed = hub.api(user, "GET", f"/user/{user}/assignments", params={"course_id": "arena"}).json()
        assert [(a["assignment_id"], a["status"]) for a in listed["value"]] == [(AID, "released")]
        assert [a["status"] for a in student_action(hub, user, "fetch")["value"]] == ["fetched"]

    released = read_nb(hub, "bob")
    write(hub, "alice", NB_PATH, with_solutions(released, source))
    for user in ("alice", "bob"):
        assert student_action(hub, user, "submit")["success"] is not False
    inbound = layout.exchange / "arena" / "inbound"
    assert [p.name.split("+")[0] for p in (inbound / "alice").iterdir()] == ["alice"]
    assert [p.name.split("+")[0] for p in (inbound / "bob").iterdir()] == ["bob"]

    # Collect (each student's own inbound folder), grade in grader containers, release feedback.
    formgrader(hub, "POST", f"/assignment/{AID}/collect")
    assert sorted(p.name for p in (layout.data_dir / "submitted").iterdir()) == ["alice", "bob"]
    env = dict(os.environ, DOCKER_HOST=docker_engine.env["DOCKER_HOST"], ARENA_HUB_COURSE_ROOT=str(layout.course_root),
               ARENA_HUB_DATA_DIR=str(layout.data_dir))
    graded = subprocess.run([str(Path(sys.executable).parent / "arena-hub"), "grade", AID, "--backend", "docker",
                             "--image", images.grader, "--workers", "2"], env=env, capture_output=True, text=True,
                            timeout=600)
    assert graded.returncode == 0 and "graded 2, failed 0" in graded.stdout, graded.stdout + graded.stderr
    formgrader(hub, "POST", f"/assignment/{AID}/generate_feedback")
    formgrader(hub, "POST", f"/assignment/{AID}/release_feedback")
    subs = {s["student"]: s for s in formgrader(hub, "GET", f"/submissions/{AID}")}
    assert (subs["alice"]["score"], subs["bob"]["score"]) == (100, 0)

    for user, score in (("alice", 100), ("bob", 0)):
        student_action(hub, user, "fetch_feedback")
        r = hub.api(user, "GET", f"/user/{user}/api/contents/{AID}/feedback")
        assert r.status_code == 200, f"{user} got no feedback: {r.text}"
        stamp = r.json()["content"][0]["path"]
        html = hub.api(user, "GET", f"/user/{user}/api/contents/{stamp}/{AID}.html").json()["content"]
        assert f"(Score: {float(score)} / 100.0)" in html, f"{user}'s feedback does not show score {score}"

    # Isolation comes from the mounts: alice's container holds her folders only.
    seen = in_container(docker_engine, "alice", f"ls -A {EXCHANGE}/inbound {EXCHANGE}/feedback /home; "
                                                f"grep -rl bob {EXCHANGE} /home 2>/dev/null; true").stdout
    assert "bob" not in seen, f"alice's container sees bob's files:\n{seen}"
    assert in_container(docker_engine, "alice", f"touch {EXCHANGE}/outbound/x").returncode != 0, \
        "outbound/ must be read-only for students"
    assert in_container(docker_engine, "alice", f"touch {EXCHANGE}/feedback/x").returncode != 0, \
        "feedback/ must be read-only for students"
    assert in_container(docker_engine, "alice", f"test -e {layout.data_dir}").returncode != 0, \
        "the course's data (gradebook, submissions) must not be in a student container"

    # A server restart keeps the home (a named volume per student) and drops the container.
    assert in_container(docker_engine, "alice", "echo kept > /home/jovyan/notes.txt").returncode == 0
    r = hub.api("alice", "DELETE", "/hub/api/users/alice/server")
    assert r.status_code in (202, 204), r.text
    deadline = time.monotonic() + 60
    while docker(docker_engine, "ps", "-aq", "--filter", "name=^arena-hub-alice$").stdout.strip():
        assert time.monotonic() < deadline, "the stopped server's container was not removed"
        time.sleep(0.5)
    hub.start_server("alice", timeout=180)
    assert in_container(docker_engine, "alice", "cat /home/jovyan/notes.txt").stdout.strip() == "kept"
