"""The grader's agent inside the student's kernel: run one request, send the result back.

Runs in the (untrusted) kernel. Whatever it returns is only data: the grader decodes it with a
strict, pickle-free decoder and decides pass or fail in its own process. Objects that are not
data (a student's module, optimizer or generator) stay here; the grader gets a handle to them
and asks for calls, attributes or iteration through it.
"""

from __future__ import annotations

import contextlib
import importlib

from . import wire

MIME = "application/vnd.arena-hub.result+json"

_objects: dict[int, object] = {}  # what the grader holds handles to, kept alive for it


def _resolve(path: str):
    module, _, qualname = path.partition(":")
    obj = importlib.import_module(module)
    for part in filter(None, qualname.split(".")):
        obj = getattr(obj, part)
    return obj


def _share(obj) -> list:
    _objects[id(obj)] = obj
    return ["ref", id(obj), type(obj).__name__]


def _lookup(handle: list):
    from IPython import get_ipython

    kind, key = handle[0], handle[1]
    if kind == "ref":
        return _objects[int(key)]
    if kind == "name":
        return get_ipython().user_ns[str(key)]
    raise wire.WireError(f"unknown handle {handle!r}")


def _perform(target, op: str, attr, args, kwargs):
    if op == "call":
        return (getattr(target, attr) if attr else target)(*args, **kwargs)
    if op == "getattr":
        return getattr(target, attr)
    if op == "iter":
        return list(target)
    if op == "len":
        return len(target)
    raise ValueError(f"unknown request {op!r}")


def serve(payload: str) -> None:
    import torch
    from IPython.display import display

    from ..checks import forbid

    try:
        request = wire.loads(payload, refs=_lookup)
        torch.set_rng_state(request["rng"])
        target = _lookup(request["target"])
        guards = [(_resolve(owner), attr) for owner, attr, _ in request["guards"]]
        reason = request["guards"][0][2] if request["guards"] else ""
        with forbid(*guards, reason=reason) if guards else contextlib.nullcontext():
            result = _perform(target, request["op"], request.get("attr"), request["args"],
                              request["kwargs"])
        text = wire.dumps({"ok": result, "rng": torch.get_rng_state()}, share=_share)
    except BaseException as e:  # noqa: BLE001 -- every failure goes back as data
        text = wire.dumps({"raised": [type(e).__name__, str(e)], "rng": torch.get_rng_state()})
    display({MIME: text}, raw=True)
