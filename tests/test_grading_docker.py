"""The docker backend, for real: one container per submission on the Docker engine here.

The grader image of these tests is a debootstrapped Debian with python3, and the course stack is
this checkout's venv mounted read-only; tests/test_images.py grades with the real grader image.
Every hostile submission (network, memory, fork bomb, reading the course, killing the kernel,
...) runs on this backend too: tests/test_grading_hostile.py is parametrized over backends.
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

AID = "c0d0-prereqs"


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


def test_a_day_needing_more_gpus_than_the_backend_has_fails_at_once_with_the_reason():
    done = []
    # No engine is needed: nothing may be started for this job (the docker CLI path is bogus).
    outcomes = DockerBackend(DockerSettings(gpu_ids=["0"], docker="/nonexistent/docker")).run(
        [GradingJob(AID, "alice", "t", gpus=2)], inputs=None, on_done=done.append)
    assert [(o.job.student_id, o.ok) for o in outcomes] == [("alice", False)] and done == outcomes
    assert "needs 2 GPU(s) and the docker backend has 1" in outcomes[0].reason
    assert "--gpu-ids" in outcomes[0].reason
