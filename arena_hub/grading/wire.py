"""Values across the trust boundary between the grader and the student's kernel.

A strict, pickle-free encoding: tensors and numeric numpy arrays as raw bytes with dtype and
shape, JSON scalars, lists, tuples and string-keyed dicts. Anything else is refused, so a
hostile kernel can send back wrong answers but never code or objects that act on the grader.
"""

from __future__ import annotations

import base64
import json

MAX_BYTES = 64 * 1024 * 1024


class WireError(TypeError):
    pass


def _enc(value):
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
        a = np.ascontiguousarray(value)
        return {"__ndarray__": [a.dtype.str, list(a.shape), base64.b64encode(a.tobytes()).decode()]}
    if isinstance(value, np.generic):
        return _enc(value.item())
    if isinstance(value, list):
        return [_enc(v) for v in value]
    if isinstance(value, tuple):
        return {"__tuple__": [_enc(v) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise WireError("only dicts with string keys can be sent")
        return {"__dict__": [[k, _enc(v)] for k, v in value.items()]}
    raise WireError(f"a {type(value).__name__} cannot be sent between the grader and the notebook")


def _dec(value):
    import numpy as np
    import torch

    if isinstance(value, list):
        return [_dec(v) for v in value]
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
        return tuple(_dec(v) for v in value["__tuple__"])
    if "__dict__" in value:
        return {str(k): _dec(v) for k, v in value["__dict__"]}
    raise WireError("malformed value")


def dumps(value) -> str:
    text = json.dumps(_enc(value))
    if len(text) > MAX_BYTES:
        raise WireError(f"value too large to send ({len(text)} bytes)")
    return text


def loads(text: str):
    if len(text) > MAX_BYTES:
        raise WireError(f"value too large ({len(text)} bytes)")
    return _dec(json.loads(text))
