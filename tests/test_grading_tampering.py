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
from tests.test_grading_hostile import with_cell

AID = "c0d0-prereqs"
ATTACKS = {
    "rebind_helpers": "check_tensor = check_true = check_type = check_close = lambda *a, **k: None",
    "patch_torch": "import torch\ntorch.Tensor.any = lambda self, *a, **k: torch.tensor(False)",
    "rewrite_later_cells": ("get_ipython().input_transformers_post.append(\n"
                            "    lambda lines: ['pass\\n'] if any('check_' in l for l in lines) else lines)"),
}


@pytest.fixture(scope="module")
def both_ways(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tampering")
    ours, theirs = scratch_course(tmp / "ours"), scratch_course(tmp / "theirs")
    src = notebook(ours, "source", AID)
    bug = next(m for m in mutants.for_day(AID) if m.exercise == "rearrange_2")
    buggy = mutants.apply(src, bug)
    subs = {"honest_bug": buggy, **{name: with_cell(buggy, code) for name, code in ATTACKS.items()}}
    for layout in (ours, theirs):
        release.build(layout, [AID])
        submit_files(layout, AID, subs)
    report = engine.grade(ours, AID, workers=2, stream=io.StringIO())
    assert not report.failed, [o.reason for o in report.failed]
    proc = release.nbgrader(theirs, "autograde", AID, "--force")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return ours, theirs


def total(layout, student):
    return sum(scores(layout, AID, student).values())


def test_the_bug_alone_costs_its_test(both_ways):
    ours, theirs = both_ways
    assert total(ours, "honest_bug") == total(theirs, "honest_bug") == 96


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_the_attack_fools_tests_run_in_the_kernel(both_ways, attack):
    _, theirs = both_ways
    assert total(theirs, attack) == 100, "control: plain nbgrader should be fooled, else the attack is not real"


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_the_engine_is_not_fooled(both_ways, attack):
    ours, _ = both_ways
    got = scores(ours, AID, attack)
    assert got["test_rearrange_2"] == 0 and total(ours, attack) == 96, got
