"""Values across the trust boundary between the grader and the student's kernel.

A strict, pickle-free encoding: tensors and numeric numpy arrays as raw bytes with dtype and
shape, JSON scalars, lists, tuples and string-keyed dicts. Anything else is refused, so a
hostile kernel can send back wrong answers but never code or objects that act on the grader.

Objects that are not data (a student's ``nn.Module``, an optimizer) never cross: the side that
owns one sends a handle (``{"__ref__": [...]}``) made by its ``share`` hook, and the other side
turns handles into proxies with its ``refs`` hook. Without hooks, handles are refused.
"""

from __future__ import annotations

import base64
import json

MAX_BYTES = 64 * 1024 * 1024


class WireError(TypeError):
    pass


def _enc(value, share=None):
    import numpy as np
    import torch

    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, torch.Tensor):
        # Send the whole storage with size, stride and offset, so that a view arrives as the
        # same view (a non-contiguous input must stay non-contiguous for the student's code).
        t = value.detach().cpu()
        if t.is_conj() or t.is_neg():
            t = t.resolve_conj().resolve_neg()
        itemsize = t.element_size()
        count = t.untyped_storage().nbytes() // itemsize
        base = torch.empty(0, dtype=t.dtype).set_(t.untyped_storage(), 0, (count,), (1,))
        raw = base.view(torch.uint8).numpy().tobytes() if count else b""
        return {"__tensor__": [str(t.dtype).removeprefix("torch."), list(t.shape), list(t.stride()),
                               t.storage_offset(), base64.b64encode(raw).decode()]}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise WireError(f"cannot send a numpy array of dtype {value.dtype}")
        a = np.ascontiguousarray(value).reshape(value.shape)  # ascontiguousarray makes 0-d 1-d
        return {"__ndarray__": [a.dtype.str, list(a.shape), base64.b64encode(a.tobytes()).decode()]}
    if isinstance(value, np.generic):
        return _enc(value.item())
    if isinstance(value, list):
        return [_enc(v, share) for v in value]
    if isinstance(value, tuple):
        return {"__tuple__": [_enc(v, share) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": [[k, _enc(v, share)] for k, v in value.items()]}
    if share is not None:
        return {"__ref__": share(value)}
    if isinstance(value, dict):
        raise WireError("only dicts with string keys can be sent")
    raise WireError(f"a {type(value).__name__} cannot be sent between the grader and the notebook")


def _dec(value, refs=None):
    import numpy as np
    import torch

    if isinstance(value, list):
        return [_dec(v, refs) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tensor__" in value:
        dtype_name, shape, stride, offset, data = value["__tensor__"]
        dtype = getattr(torch, dtype_name, None)
        if not isinstance(dtype, torch.dtype):
            raise WireError(f"unknown tensor dtype {dtype_name!r}")
        shape, stride, offset = [int(s) for s in shape], [int(s) for s in stride], int(offset)
        raw = base64.b64decode(data)
        base = (torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(dtype) if raw
                else torch.empty(0, dtype=dtype))
        need = offset + sum((n - 1) * st for n, st in zip(shape, stride)) + 1 if all(shape) else 0
        if any(st < 0 for st in stride) or need > base.numel():
            raise WireError("tensor layout does not fit its data")
        return torch.as_strided(base, shape, stride, offset)
    if "__ndarray__" in value:
        dtype, shape, data = value["__ndarray__"]
        if np.dtype(dtype).kind not in "biuf":
            raise WireError(f"refused numpy dtype {dtype!r}")
        return np.frombuffer(base64.b64decode(data), dtype=np.dtype(dtype)).reshape(shape).copy()
    if "__tuple__" in value:
        return tuple(_dec(v, refs) for v in value["__tuple__"])
    if "__dict__" in value:
        return {str(k): _dec(v, refs) for k, v in value["__dict__"]}
    if "__ref__" in value and refs is not None and isinstance(value["__ref__"], list):
        return refs(value["__ref__"])
    raise WireError("malformed value")


def dumps(value, share=None) -> str:
    """``share(obj) -> list``: a handle for an object that is not data (else it is refused)."""
    text = json.dumps(_enc(value, share))
    if len(text) > MAX_BYTES:
        raise WireError(f"value too large to send ({len(text)} bytes)")
    return text


def loads(text: str, refs=None):
    """``refs(handle) -> object``: what a handle stands for (else handles are refused)."""
    if len(text) > MAX_BYTES:
        raise WireError(f"value too large ({len(text)} bytes)")
    return _dec(json.loads(text), refs)
