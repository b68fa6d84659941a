"""Assertion helpers for the test cells of course notebooks.

Every failure says in words which case failed and how: the shape or dtype it got and expected,
the largest error and where it is, and (when the author gives one) the likely cause. Students
see these messages in the notebook and in their feedback.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, Iterator

import torch


def _fail(case: str, what: str, hint: str | None) -> None:
    message = f"{case}: {what}"
    if hint:
        message += f" — {hint}"
    raise AssertionError(message)


def _shape(t) -> tuple:
    return tuple(t.shape)


def check_type(got: Any, expected_type, case: str, hint: str | None = None) -> None:
    """``got`` must be an instance of ``expected_type`` (a type or a tuple of types)."""
    if not isinstance(got, expected_type):
        names = (
            " or ".join(t.__name__ for t in expected_type)
            if isinstance(expected_type, tuple)
            else expected_type.__name__
        )
        _fail(case, f"returned a {type(got).__name__}, expected a {names}", hint)


def check_tensor(
    got: Any,
    expected: torch.Tensor,
    case: str,
    *,
    hint: str | None = None,
    exact: bool = False,
    check_dtype: bool = True,
    atol: float = 1e-5,
    rtol: float = 1e-4,
) -> None:
    """Compare a tensor with the expected one: type, shape, dtype, then values.

    ``exact=True`` demands equal values (integers, booleans, indexing results); otherwise values
    must agree within ``atol + rtol * |expected|`` elementwise, and NaN/inf must match.
    """
    check_type(got, torch.Tensor, case, hint)
    if _shape(got) != _shape(expected):
        _fail(case, f"output shape {_shape(got)}, expected {_shape(expected)}", hint)
    if check_dtype and got.dtype != expected.dtype:
        _fail(case, f"dtype {got.dtype}, expected {expected.dtype}", hint)
    g = got.detach().cpu()
    e = expected.detach().cpu().to(g.dtype) if not check_dtype else expected.detach().cpu()
    if g.numel() == 0:
        return
    if exact:
        wrong = g != e
        if wrong.any():
            idx = tuple(int(i) for i in wrong.nonzero()[0])
            _fail(
                case,
                f"{int(wrong.sum())} of {g.numel()} values differ; first at index {idx}: "
                f"got {g[idx].item()}, expected {e[idx].item()}",
                hint,
            )
        return
    g64, e64 = g.double(), e.double()
    bad_nan = torch.isnan(g64) != torch.isnan(e64)
    finite_e = torch.isfinite(e64)
    bad_inf = (~finite_e & ~torch.isnan(e64)) & (g64 != e64)
    bad_inf |= finite_e & ~torch.isfinite(g64)
    err = torch.where(finite_e & torch.isfinite(g64), (g64 - e64).abs(), torch.zeros_like(g64))
    too_far = err > atol + rtol * e64.abs().where(finite_e, torch.zeros_like(e64))
    wrong = bad_nan | bad_inf | too_far
    if wrong.any():
        idx = tuple(int(i) for i in wrong.nonzero()[0])
        detail = f"got {g64[idx].item():.6g}, expected {e64[idx].item():.6g}"
        if (bad_nan | bad_inf).any():
            what = f"non-finite values where none were expected (first at index {idx}: {detail})"
        else:
            what = (
                f"values differ by up to {err.max().item():.3g} (tolerance {atol:g} + {rtol:g}·|x|); "
                f"first bad index {idx}: {detail}"
            )
        _fail(case, what, hint)


def check_close(got: Any, expected: float, case: str, *, hint: str | None = None,
                atol: float = 1e-6, rtol: float = 1e-6) -> None:
    """Compare a scalar (Python number or 0-d tensor) with the expected number."""
    value = got.item() if isinstance(got, torch.Tensor) and got.numel() == 1 else got
    check_type(value, (int, float), case, hint)
    if not math.isclose(value, expected, abs_tol=atol, rel_tol=rtol):
        _fail(case, f"got {value:.6g}, expected {expected:.6g}", hint)


def check_true(condition: bool, case: str, what: str, hint: str | None = None) -> None:
    """Fail with ``what`` unless ``condition`` holds (for invariants)."""
    if not condition:
        _fail(case, what, hint)


_ACTIVE_GUARDS: list[tuple[str, str, str]] = []
_INHERITED = object()


def _path(owner) -> str:
    if isinstance(owner, type):
        return f"{owner.__module__}:{owner.__qualname__}"
    return owner.__name__


def active_guards() -> list[tuple[str, str, str]]:
    """The guards in force, as (owner path, attribute, reason): the grader re-applies them
    around a student function it calls in the notebook's kernel."""
    return list(_ACTIVE_GUARDS)


@contextlib.contextmanager
def forbid(*targets: tuple[Any, str], reason: str = "this exercise asks you to build it yourself"
           ) -> Iterator[None]:
    """Op guard: while active, calling any ``(owner, "name")`` raises a clear error.

    ``with forbid((torch, "eye")): identity_matrix(3)``
    """
    saved = []

    def blocked(qualname):
        def raiser(*args, **kwargs):
            raise AssertionError(f"{qualname} was called, but {reason}")
        return raiser

    marks = [(_path(owner), name, reason) for owner, name in targets]
    _ACTIVE_GUARDS.extend(marks)
    try:
        for owner, name in targets:
            getattr(owner, name)  # a typo in a guard fails loudly, not silently
            # The owner's own entry, not getattr: a subclass that inherits the attribute (AdamW's
            # step from Adam) must inherit it again afterwards, not keep a blocked copy.
            own = getattr(owner, "__dict__", {})
            saved.append((owner, name, own[name] if name in own else _INHERITED))
            qualname = f"{getattr(owner, '__name__', type(owner).__name__)}.{name}"
            setattr(owner, name, blocked(qualname))
        yield
    finally:
        for owner, name, original in reversed(saved):
            if original is _INHERITED:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        del _ACTIVE_GUARDS[len(_ACTIVE_GUARDS) - len(marks):]


_IN_NOTEBOOK = None  # set by the grader while it decides a test cell (grading.judge)


def in_notebook(fn, *args, **kwargs):
    """Call a provided helper where the notebook's objects live: ``fn(*args, **kwargs)``.

    In the notebook this is a plain call. When grading, test cells run in the grader's process
    and the student's functions run in the kernel; a provided helper that drives a student's
    objects (a few optimizer steps, a backward pass) must run next to them, so the grader runs
    ``fn`` there and receives its result as data. Expected values are computed in the test.
    """
    if _IN_NOTEBOOK is None:
        return fn(*args, **kwargs)
    return _IN_NOTEBOOK(fn, args, kwargs)
