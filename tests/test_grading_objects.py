"""Exercises that are classes (modules, optimizers) grade the same in the kernel and by the judge.

A small assignment made here: a student module ``Scale`` (checked through a handle: calls,
attributes, ``parameters()``, ``state_dict()``), and an optimizer ``SGD`` that a provided helper
drives in the notebook through ``in_notebook`` while the expected values come from
``torch.optim.SGD`` in the test. Plain nbgrader and the engine must agree on the reference, the
untouched release and each bug; a student who patches ``torch.optim.SGD`` in the kernel to
make the expected values match their wrong optimizer fools only plain nbgrader.
"""

from __future__ import annotations

import io

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from arena_hub import release
from arena_hub.grading import engine
from tests.helpers import autograde, scores, scratch_course, submit_files
from tests.test_grading_hostile import with_cell

AID = "c9x9-objects"

SETUP = '''import torch
from torch import nn
from arena_hub.checks import check_close, check_tensor, check_true, in_notebook


def run_optimizer(opt_class, steps, **hyper):
    """Provided: a few steps of opt_class on a fixed quadratic; the final parameters."""
    g = torch.Generator().manual_seed(0)
    w = torch.randn(4, generator=g, dtype=torch.float64, requires_grad=True)
    target = torch.arange(4, dtype=torch.float64)
    opt = opt_class([w], **hyper)
    for _ in range(steps):
        opt.zero_grad()
        ((w - target) ** 2).sum().backward()
        opt.step()
    return w.detach().clone()
'''

SCALE = '''class Scale(nn.Module):
    """Multiply the input elementwise by a learned weight (initialised to `init`)."""

    def __init__(self, n: int, init: float = 1.0):
        super().__init__()
        ### BEGIN SOLUTION
        self.weight = nn.Parameter(torch.full((n,), float(init)))
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        return x * self.weight
        ### END SOLUTION
'''

SGD = '''class SGD:
    """Plain SGD with momentum, as torch.optim.SGD computes it."""

    def __init__(self, params, lr: float, momentum: float = 0.0):
        ### BEGIN SOLUTION
        self.params, self.lr, self.momentum = list(params), lr, momentum
        self.bufs = [None for _ in self.params]
        ### END SOLUTION

    def zero_grad(self):
        ### BEGIN SOLUTION
        for p in self.params:
            p.grad = None
        ### END SOLUTION

    @torch.no_grad()
    def step(self):
        ### BEGIN SOLUTION
        for i, p in enumerate(self.params):
            g = p.grad
            if self.momentum:
                self.bufs[i] = g.clone() if self.bufs[i] is None else self.momentum * self.bufs[i] + g
                g = self.bufs[i]
            p -= self.lr * g
        ### END SOLUTION
'''

TEST_SCALE = '''m = Scale(3, init=2.0)
check_tensor(m(torch.ones(3)), torch.full((3,), 2.0), "Scale(3, init=2.0)(ones)")
### BEGIN HIDDEN TESTS
check_true(len(list(m.parameters())) == 1, "Scale(3)", "should have exactly one parameter")
check_tensor(m.state_dict()["weight"], torch.full((3,), 2.0), "Scale(3, init=2.0).weight")
check_tensor(m.weight, torch.full((3,), 2.0), "Scale(3, init=2.0).weight")
x = torch.randn(2, 3, generator=torch.Generator().manual_seed(1))
check_tensor(m.forward(x), x * 2.0, "Scale(3, init=2.0).forward(x)")
### END HIDDEN TESTS
'''

TEST_SGD = '''got = in_notebook(run_optimizer, SGD, 3, lr=0.1)
check_tensor(got, run_optimizer(torch.optim.SGD, 3, lr=0.1), "3 steps of SGD(lr=0.1)")
### BEGIN HIDDEN TESTS
got = in_notebook(run_optimizer, SGD, 5, lr=0.05, momentum=0.9)
check_tensor(got, run_optimizer(torch.optim.SGD, 5, lr=0.05, momentum=0.9),
             "5 steps of SGD(lr=0.05, momentum=0.9)", hint="check the momentum buffer")
### END HIDDEN TESTS
'''

BUGS = {
    "scale_adds": ("return x * self.weight", "return x + self.weight", {"test_Scale"}),
    "momentum_wrong": ("self.momentum * self.bufs[i] + g", "self.momentum * self.bufs[i]", {"test_SGD"}),
}
# Student code that makes torch.optim.SGD (the test's reference) behave like the buggy SGD.
CHEAT = "import torch\ntorch.optim.SGD = lambda params, **k: SGD(params, **k)"


def meta(grade_id, **kw):
    base = {"grade": False, "grade_id": grade_id, "locked": False, "schema_version": 3,
            "solution": False, "task": False}
    return {"nbgrader": {**base, **kw}}


def source_notebook():
    cells = [new_markdown_cell("# Objects across the judge"),
             new_code_cell(SETUP, metadata=meta("setup", locked=True)),
             new_code_cell(SCALE, metadata=meta("Scale", solution=True)),
             new_code_cell(TEST_SCALE, metadata=meta("test_Scale", grade=True, locked=True, points=50)),
             new_code_cell(SGD, metadata=meta("SGD", solution=True)),
             new_code_cell(TEST_SGD, metadata=meta("test_SGD", grade=True, locked=True, points=50))]
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                              "language": "python"}})


def bugged(nb, old, new):
    nb = nbformat.from_dict(nb)
    cell = next(c for c in nb.cells if old in c.source and c.metadata["nbgrader"]["solution"])
    cell.source = cell.source.replace(old, new)
    return nb


def make_course(tmp):
    layout = scratch_course(tmp, with_release=False)
    d = layout.source / AID
    d.mkdir()
    nbformat.write(source_notebook(), d / f"{AID}.ipynb")
    (d / "assignment.toml").write_text(f'id = "{AID}"\ntitle = "Objects"\narena = "9.9"\n')
    return layout


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = make_course(tmp_path_factory.mktemp("objects-nbgrader"))
    release.build(base, [AID])
    src = nbformat.read(base.source / AID / f"{AID}.ipynb", as_version=4)
    rel = nbformat.read(base.release / AID / f"{AID}.ipynb", as_version=4)
    subs = {"reference": src, "untouched": rel}
    subs.update({name: bugged(src, old, new) for name, (old, new, _) in BUGS.items()})
    momentum = BUGS["momentum_wrong"]
    subs["cheat"] = with_cell(bugged(src, *momentum[:2]), CHEAT)
    in_kernel = autograde(base, AID, subs)
    ours = make_course(tmp_path_factory.mktemp("objects-engine"))
    release.build(ours, [AID])
    submit_files(ours, AID, subs)
    report = engine.grade(ours, AID, workers=2, stream=io.StringIO())
    assert not report.failed, [(o.job.student_id, o.reason) for o in report.failed]
    return in_kernel, {s: scores(ours, AID, s) for s in subs}


def test_reference_full_marks_and_release_zero(graded):
    in_kernel, judged = graded
    for got in (in_kernel, judged):
        assert got["reference"] == {"test_Scale": 50, "test_SGD": 50}
        assert got["untouched"] == {"test_Scale": 0, "test_SGD": 0}


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_each_bug_loses_its_test_both_ways(graded, bug):
    in_kernel, judged = graded
    for got in (in_kernel[bug], judged[bug]):
        assert {k for k, v in got.items() if v == 0} == BUGS[bug][2], got


def test_patching_the_reference_in_the_kernel_fools_only_plain_nbgrader(graded):
    in_kernel, judged = graded
    assert in_kernel["cheat"]["test_SGD"] == 50, "control: the cheat should fool tests run in the kernel"
    assert judged["cheat"]["test_SGD"] == 0


def test_handles_are_refused_without_hooks_and_the_notebook_cannot_name_grader_objects():
    from arena_hub.grading import wire
    from arena_hub.grading.judge import Judge, KernelObject

    with pytest.raises(wire.WireError):
        wire.loads('{"__ref__": ["ref", 1, "Scale"]}')
    with pytest.raises(wire.WireError):
        wire.dumps(object())
    judge = Judge(client=None, exercises=[])
    assert isinstance(wire.loads('{"__ref__": ["ref", 7, "Scale"]}', refs=judge._handle), KernelObject)
    for bad in ('["name", "check_tensor"]', '["ref", "7", "x"]', '["ref", 7]'):
        with pytest.raises(wire.WireError):
            wire.loads('{"__ref__": %s}' % bad, refs=judge._handle)


def test_zero_dimensional_arrays_keep_their_shape_on_the_wire():
    import numpy as np

    from arena_hub.grading import wire

    for value in (np.array(3.5), np.zeros((2, 0)), np.arange(6).reshape(2, 3).T):
        back = wire.loads(wire.dumps(value))
        assert back.shape == value.shape and (back == value).all()
