"""Student code that tampers with its own kernel cannot turn a failing test into a pass.

Each submission has one real bug (rearrange_2 builds the wrong tensor: only the hidden check of
its values catches it) plus an attack on the kernel. Plain `nbgrader autograde`, where tests run
in the student's kernel, is fooled by every attack (the control below proves the attacks are
real); the engine decides test cells in its own process and takes exactly the bug's 4 points.
"""

from __future__ import annotations

import io

import pytest

from arena_hub import release
from arena_hub.grading import engine
from tests import mutants
from tests.helpers import notebook, scores, scratch_course, submit_files
from tests.test_grading_hostile import make_backend, with_cell

AID = "c0d0-prereqs"
ATTACKS = {
    "rebind_helpers": "check_tensor = check_true = check_type = check_close = lambda *a, **k: None",
    "patch_torch": "import torch\ntorch.Tensor.any = lambda self, *a, **k: torch.tensor(False)",
    "rewrite_later_cells": ("get_ipython().input_transformers_post.append(\n"
                            "    lambda lines: ['pass\\n'] if any('check_' in l for l in lines) else lines)"),
}


def submissions(layout):
    src = notebook(layout, "source", AID)
    bug = next(m for m in mutants.for_day(AID) if m.exercise == "rearrange_2")
    buggy = mutants.apply(src, bug)
    return {"honest_bug": buggy, **{name: with_cell(buggy, code) for name, code in ATTACKS.items()}}


def course_with_submissions(tmp):
    layout = scratch_course(tmp)
    release.build(layout, [AID])
    submit_files(layout, AID, submissions(layout))
    return layout


@pytest.fixture(scope="module")
def in_kernel(tmp_path_factory):
    """Control: plain nbgrader autograde, tests run in the student's kernel."""
    layout = course_with_submissions(tmp_path_factory.mktemp("tampering-nbgrader"))
    proc = release.nbgrader(layout, "autograde", AID, "--force")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return layout


@pytest.fixture(scope="module", params=["local", "docker"])
def judged(tmp_path_factory, request):
    layout = course_with_submissions(tmp_path_factory.mktemp(f"tampering-{request.param}"))
    report = engine.grade(layout, AID, workers=2, stream=io.StringIO(),
                          backend=make_backend(request.param, request))
    assert not report.failed, [o.reason for o in report.failed]
    return layout


def total(layout, student):
    return sum(scores(layout, AID, student).values())


def test_the_bug_alone_costs_its_test(in_kernel, judged):
    assert total(judged, "honest_bug") == total(in_kernel, "honest_bug") == 96


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_the_attack_fools_tests_run_in_the_kernel(in_kernel, attack):
    assert total(in_kernel, attack) == 100, "control: plain nbgrader should be fooled, else the attack is not real"


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_the_engine_is_not_fooled(judged, attack):
    got = scores(judged, AID, attack)
    assert got["test_rearrange_2"] == 0 and total(judged, attack) == 96, got


def test_multi_process_days_are_judged_too(tmp_path):
    """The ranks run in the student's processes, but their results are compared in the grader."""
    from tests.helpers import autograde

    day = "c3x0-collectives"
    layout = scratch_course(tmp_path / "nbgrader")
    src = notebook(layout, "source", day)
    bug = next(m for m in mutants.for_day(day) if m.bug == "overwrites instead of adding")
    subs = {"cheat": with_cell(mutants.apply(src, bug), ATTACKS["rebind_helpers"])}
    in_kernel = autograde(layout, day, subs)
    assert sum(in_kernel["cheat"].values()) == 100, "control: the attack should fool tests run in the kernel"
    ours = scratch_course(tmp_path / "engine")
    release.build(ours, [day])
    submit_files(ours, day, subs)
    report = engine.grade(ours, day, workers=1, stream=io.StringIO())
    assert not report.failed, [o.reason for o in report.failed]
    assert sum(scores(ours, day, "cheat").values()) == 40
