"""The grader's agent inside the student's kernel: call one student function, send the result.

Runs in the (untrusted) kernel. Whatever it returns is only data: the grader decodes it with a
strict, pickle-free decoder and decides pass or fail in its own process.
"""

from __future__ import annotations

import contextlib
import importlib

from . import wire

MIME = "application/vnd.arena-hub.result+json"


def _resolve(path: str):
    module, _, qualname = path.partition(":")
    obj = importlib.import_module(module)
    for part in filter(None, qualname.split(".")):
        obj = getattr(obj, part)
    return obj


def call(name: str, payload: str) -> None:
    import torch
    from IPython import get_ipython
    from IPython.display import display

    from ..checks import forbid

    try:
        request = wire.loads(payload)
        torch.set_rng_state(request["rng"])
        fn = get_ipython().user_ns[name]
        guards = [(_resolve(owner), attr) for owner, attr, _ in request["guards"]]
        reason = request["guards"][0][2] if request["guards"] else ""
        with forbid(*guards, reason=reason) if guards else contextlib.nullcontext():
            result = fn(*request["args"], **request["kwargs"])
        text = wire.dumps({"ok": result, "rng": torch.get_rng_state()})
    except BaseException as e:  # noqa: BLE001 -- every failure goes back as data
        text = wire.dumps({"raised": [type(e).__name__, str(e)], "rng": torch.get_rng_state()})
    display({MIME: text}, raw=True)
