"""The assertion helpers say what is wrong in words."""

from __future__ import annotations

import pytest
import torch

from arena_hub.checks import check_close, check_tensor, check_true, check_type, forbid


def fails(fn, *args, **kw) -> str:
    with pytest.raises(AssertionError) as e:
        fn(*args, **kw)
    return str(e.value)


def test_shape_dtype_and_values():
    exp = torch.zeros(2, 4, 6)
    msg = fails(check_tensor, torch.zeros(2, 4, 7), exp, "conv1d(x (2,3,9))", hint="check the stride arithmetic")
    assert msg == "conv1d(x (2,3,9)): output shape (2, 4, 7), expected (2, 4, 6) — check the stride arithmetic"
    assert "dtype torch.int64, expected torch.float32" in fails(check_tensor, torch.zeros(2, 4, 6, dtype=torch.long), exp, "c")
    got = exp.clone()
    got[1, 2, 3] = 0.5
    msg = fails(check_tensor, got, exp, "c")
    assert "differ by up to 0.5" in msg and "first bad index (1, 2, 3)" in msg
    assert "returned a list, expected a Tensor" in fails(check_tensor, [1], exp, "c")
    assert "non-finite" in fails(check_tensor, torch.tensor([float("inf")]), torch.tensor([1.0]), "c")
    assert "1 of 3 values differ; first at index (2,)" in fails(
        check_tensor, torch.tensor([1, 2, 4]), torch.tensor([1, 2, 3]), "c", exact=True)
    check_tensor(torch.tensor([1.0, float("-inf")]), torch.tensor([1.0 + 1e-7, float("-inf")]), "ok")
    check_tensor(torch.zeros(0, 3), torch.zeros(0, 3), "empty")


def test_scalars_types_and_invariants():
    assert "got 2, expected 3" in fails(check_close, 2, 3.0, "c")
    check_close(torch.tensor(3.0), 3.0, "0-d tensor")
    assert "returned a str, expected a int or float" in fails(check_type, "x", (int, float), "c")
    assert fails(check_true, False, "case", "rows do not sum to 1") == "case: rows do not sum to 1"


def test_forbid_blocks_and_restores():
    with forbid((torch, "eye"), reason="build it yourself"):
        msg = fails(torch.eye, 3)
    assert msg == "torch.eye was called, but build it yourself"
    assert torch.eye(2).shape == (2, 2)


def test_forbid_restores_inherited_attributes_whatever_the_order():
    import torch

    from arena_hub.checks import forbid

    inherited = "step" not in vars(torch.optim.AdamW)
    for targets in ([(torch.optim.Adam, "step"), (torch.optim.AdamW, "step")],
                    [(torch.optim.AdamW, "step"), (torch.optim.Adam, "step")]):
        with forbid(*targets):
            with pytest.raises(AssertionError, match="was called"):
                torch.optim.AdamW.step(None)
        assert ("step" not in vars(torch.optim.AdamW)) == inherited
        assert torch.optim.Adam.step.__name__ == "step" and torch.optim.AdamW.step.__name__ == "step"
