"""The docker backend, for real: one container per submission on the Docker engine here.

The grader image of the tests is a debootstrapped Debian with python3, and the course stack is
this checkout's venv mounted read-only (the deployment issue builds the real grader image).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from arena_hub import release
from arena_hub.grading import engine
from arena_hub.grading.docker import DockerBackend, DockerSettings, run_args
from arena_hub.grading.job import GradingJob
from arena_hub.hub import INSTALL_ROOT
from tests import mutants
from tests.helpers import notebook, scores, scratch_course, submit_files
from tests.test_grading_hostile import Listener, with_cell

AID = "c0d0-prereqs"
# Generous: these cases are about isolation, not time limits (tests/test_grading_hostile.py has those),
# and a loaded machine must not turn the reference into a time-out.
LIMITS = {"cell_timeout_seconds": 30, "timeout_seconds": 120, "memory_mib": 1200}


def test_run_args_confine_the_container():
    job = GradingJob(AID, "alice", "t", memory_mib=1024, gpus=2)
    args = run_args(job, DockerSettings(), name="n", submission=Path("/s"), template_dir=Path("/t"),
                    release_dir=Path("/r"), results=Path("/out"), gpu_ids=["1", "3"])
    joined = " ".join(args)
    for expected in ("--network none", "--memory 1024m", "--memory-swap 1024m", "--pids-limit 256",
                     "--cap-drop ALL", "/s:/submission:ro", "/t:/template:ro", "--gpus \"device=1,3\"",
                     f"/r:/course/release/{AID}:ro", "--security-opt no-new-privileges",
                     "ARENA_HUB_LAUNCHER=torchrun"):
        assert expected in joined, expected
    assert args[-3:] == ["python", "-m", "arena_hub.grading.pod"]
    assert "--gpus" not in run_args(GradingJob(AID, "bob", "t"), DockerSettings(), name="n", submission=Path("/s"),
                                    template_dir=Path("/t"), release_dir=Path("/r"), results=Path("/o"))


@pytest.fixture(scope="module")
def docker_graded(docker_engine, tmp_path_factory, request):
    listener = Listener()
    layout = scratch_course(tmp_path_factory.mktemp("docker-course"))
    release.build(layout, [AID])
    src, rel = notebook(layout, "source", AID), notebook(layout, "release", AID)
    subs = {
        "reference": src,
        "untouched": rel,
        "buggy": mutants.apply(src, mutants.for_day(AID)[0]),
        # Loopback only (never any other address): the host's listener must stay unreachable.
        "network": with_cell(src, f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {listener.port}), "
                                  "timeout=1).sendall(b'LEAK')\n    print('NET-CONNECTED')\nexcept OSError as e:\n"
                                  "    print('NET-REFUSED', type(e).__name__)"),
        "memory_bomb": with_cell(src, "hog = bytearray(3 * 1024**3)"),
        "os_exit": with_cell(src, "import os\nos._exit(0)"),
        "read_source": with_cell(src, f"print('SOURCE-READ', open({str(layout.source / AID / (AID + '.ipynb'))!r}).read(5))"),
    }
    submit_files(layout, AID, subs)
    request.addfinalizer(listener.close)
    settings = DockerSettings(image=docker_engine.image, python=sys.executable, extra_mounts=[
        f"{sys.prefix}:{sys.prefix}:ro", f"{INSTALL_ROOT / 'arena_hub'}:{INSTALL_ROOT / 'arena_hub'}:ro"])
    backend = DockerBackend(settings, workers=2, env=docker_engine.env)
    out = io.StringIO()
    report = engine.grade(layout, AID, backend=backend, stream=out, limits=LIMITS, keep_work=False)
    return layout, {o.job.student_id: o for o in report.graded}, out.getvalue(), listener


def total(layout, student):
    return sum(scores(layout, AID, student).values())


def test_docker_backend_grades_like_the_local_one(docker_graded):
    layout, outcomes, out, _ = docker_graded
    assert "docker backend" in out
    for student, expected in (("reference", 100), ("untouched", 0), ("buggy", 96)):
        assert outcomes[student].ok, outcomes[student].reason
        assert total(layout, student) == expected
    assert (layout.autograded / "reference" / AID / f"{AID}.ipynb").is_file()


def test_container_has_no_network(docker_graded):
    layout, outcomes, _, listener = docker_graded
    assert outcomes["network"].ok and total(layout, "network") == 100 and listener.hits == []


def test_memory_bomb_is_stopped(docker_graded):
    layout, outcomes, *_ = docker_graded
    o = outcomes["memory_bomb"]
    assert not o.ok and ("memory" in o.reason), o.reason
    assert total(layout, "memory_bomb") == 0


def test_killing_the_kernel_is_a_clear_failure(docker_graded):
    _, outcomes, *_ = docker_graded
    assert not outcomes["os_exit"].ok and "kernel died" in outcomes["os_exit"].reason


def test_course_source_is_not_in_the_container(docker_graded):
    layout, outcomes, *_ = docker_graded
    assert outcomes["read_source"].ok and total(layout, "read_source") == 100


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("launcher", ["fork", "torchrun"])
def test_multi_process_day_in_a_container(docker_engine, tmp_path, launcher):
    """fork: gloo ranks forked from the kernel; torchrun: what GPU jobs use (``--standalone``,
    fresh rank processes), run here on CPU with gloo since no GPU is available."""
    day = "c3x0-collectives"
    layout = scratch_course(tmp_path)
    release.build(layout, [day])
    src = notebook(layout, "source", day)
    submit_files(layout, day, {"reference": src, "buggy": mutants.apply(src, mutants.for_day(day)[3])})
    settings = DockerSettings(image=docker_engine.image, python=sys.executable, extra_mounts=[
        f"{sys.prefix}:{sys.prefix}:ro", f"{INSTALL_ROOT / 'arena_hub'}:{INSTALL_ROOT / 'arena_hub'}:ro"],
        ranks_launcher=launcher)
    # torchrun starts fresh rank processes (each imports torch) for every check: slower on CPU.
    # Fresh ranks each import torch (~0.4 GiB each) next to the kernel and the grader.
    limits = ({"timeout_seconds": 900, "cell_timeout_seconds": 300, "cpus": 2, "memory_mib": 4096}
              if launcher == "torchrun" else None)
    report = engine.grade(layout, day, backend=DockerBackend(settings, env=docker_engine.env),
                          stream=io.StringIO(), limits=limits)
    assert not report.failed, [o.reason for o in report.failed]
    assert (total_of(layout, day, "reference"), total_of(layout, day, "buggy")) == (100, 40)
    print({o.job.student_id: round(o.seconds, 1) for o in report.graded})


def total_of(layout, day, student):
    return sum(scores(layout, day, student).values())
