"""Test cells decided outside the student's kernel.

Student code runs in the same kernel as nbgrader's test cells, so it can rebind the check
helpers, patch torch or builtins, swallow exceptions in IPython's display, or rewrite later
cells before they run. ``JudgedExecute`` (nbgrader's Execute, through its preprocessor seam)
therefore never sends an autograded test cell to the kernel. It runs the test's code in the
grader's own process, where the provided cells (locked, restored from the gradebook) are
re-run, and every exercise name is a proxy: calling it sends the arguments to the kernel, the
student's function runs there, and the result comes back as data (``wire``), or as a handle
(``KernelObject``) when it is an object such as a module. Provided helpers that must run where
the student's objects live (a training loop over a student's optimizer) are called through
``checks.in_notebook``; their results are answers like any other. Comparisons,
expected values and exceptions all happen in the grader, so a tampered kernel can only return
answers, never make a wrong answer pass.

The torch RNG state travels with each call, so seeded tests behave as in the kernel. Days whose
tests start several processes ask the kernel, through ``in_notebook``, for every rank's result
(``arena_hub.distributed.run_on_ranks``) and compare them here.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import sys
import traceback
import types

from nbformat.v4 import new_code_cell, new_output
from nbgrader.preprocessors import Execute
from traitlets import Bool

from . import wire
from .agent import MIME


def _exception(ename: str, evalue: str) -> BaseException:
    cls = getattr(builtins, ename, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            return cls(evalue)
        except Exception:  # noqa: BLE001 -- exceptions with unusual constructors
            pass
    return RuntimeError(f"{ename}: {evalue}")


class KernelFunction:
    """Stands for a student's function or class in the grader; calling it runs it in the kernel."""

    def __init__(self, judge: "Judge", name: str):
        self.judge, self.name = judge, name

    def __call__(self, *args, **kwargs):
        return self.judge.request(["name", self.name], "call", None, args, kwargs)

    def __repr__(self):
        return f"<the notebook's {self.name}>"


class KernelObject:
    """A handle to an object that lives in the kernel (a student's module, optimizer, ...).

    Calls, attribute reads, ``len``, indexing and iteration are asked of the kernel; what comes
    back is data or another handle. A test checks what such an object does, not its type.
    """

    def __init__(self, judge: "Judge", key: int, kind: str):
        object.__setattr__(self, "_handle", (judge, ["ref", key], kind))

    def _ask(self, op, attr=None, args=(), kwargs=None):
        judge, handle, _ = object.__getattribute__(self, "_handle")
        return judge.request(handle, op, attr, args, kwargs or {})

    def __call__(self, *args, **kwargs):
        return self._ask("call", None, args, kwargs)

    def __getattr__(self, attr):
        if attr.startswith("__"):  # copy/pickle/inspect probes: not the student's object
            raise AttributeError(attr)
        return self._ask("getattr", attr)

    def __getitem__(self, key):
        return self._ask("call", "__getitem__", (key,))

    def __len__(self):
        return self._ask("len")

    def __iter__(self):
        return iter(self._ask("iter"))

    def __repr__(self):
        return f"<the notebook's {object.__getattribute__(self, '_handle')[2]} object>"


class Judge:
    def __init__(self, client, exercises: list[str]):
        self.client, self.index = client, 0
        # A real module, so that code which looks its module up (dataclasses) works here too.
        module = types.ModuleType("__grader__")
        sys.modules["__grader__"] = module
        self.ns: dict = module.__dict__
        self.exercises = exercises

    def add_trusted(self, source: str) -> None:
        """Run a provided (locked) cell's code in the grader, quietly."""
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            try:
                # dont_inherit: this module's `from __future__ import annotations` is not the cell's
                exec(compile(source, "<provided cell>", "exec", dont_inherit=True), self.ns)  # noqa: S102
            except Exception:  # noqa: BLE001 -- the kernel runs it too and shows the error
                pass
        for name in self.exercises:
            self.ns[name] = KernelFunction(self, name)

    def _share(self, value) -> list:
        if isinstance(value, KernelFunction):
            return ["name", value.name]
        if isinstance(value, KernelObject):
            return object.__getattribute__(value, "_handle")[1]
        raise wire.WireError(f"a {type(value).__name__} from the test cannot be sent to the "
                             "notebook (only data and the notebook's own objects)")

    def _handle(self, handle: list):
        if len(handle) == 3 and handle[0] == "ref" and isinstance(handle[1], int):
            return KernelObject(self, handle[1], str(handle[2])[:80])
        raise wire.WireError("malformed handle from the notebook")

    def in_notebook(self, fn, args, kwargs):
        """``checks.in_notebook`` while the grader decides a test: run a provided helper in the
        kernel (where the student's objects live); only helpers of locked cells qualify."""
        name = getattr(fn, "__name__", "")
        if self.ns.get(name) is not fn:
            raise RuntimeError(f"in_notebook({name or fn!r}): only functions of provided cells")
        return self.request(["name", name], "call", None, args, kwargs)

    def request(self, target: list, op: str, attr, args, kwargs):
        import torch

        from ..checks import active_guards

        payload = wire.dumps({"target": target, "op": op, "attr": attr, "args": list(args),
                              "kwargs": kwargs, "rng": torch.get_rng_state(),
                              "guards": active_guards()}, share=self._share)
        what = f"{target[1] if target[0] == 'name' else 'an object'}{'.' + attr if attr else ''}"
        cell = new_code_cell(
            f"__import__('arena_hub.grading.agent', fromlist=['serve']).serve({payload!r})")
        self.client.execute_cell(cell, self.index, store_history=False)
        answers = [o["data"][MIME] for o in cell.outputs
                   if o.get("output_type") == "display_data" and MIME in o.get("data", {})]
        if not answers:
            raise RuntimeError(f"asking the notebook for {what} gave no answer (the kernel "
                               "timed out, crashed, or its output was tampered with)")
        reply = wire.loads(answers[-1], refs=self._handle)
        rng = reply.get("rng")
        if isinstance(rng, torch.Tensor) and rng.dtype == torch.uint8:
            torch.set_rng_state(rng)
        if "raised" in reply:
            raise _exception(*[str(x) for x in reply["raised"][:2]])
        return reply["ok"]

    def run_test(self, source: str, index: int) -> list:
        self.index = index
        from .. import checks

        printed = io.StringIO()
        outputs = []
        checks._IN_NOTEBOOK = self.in_notebook
        try:
            with contextlib.redirect_stdout(printed):
                exec(compile(source, f"<test cell {index}>", "exec", dont_inherit=True), self.ns)  # noqa: S102
        except BaseException as e:  # noqa: BLE001 -- a failing test, whatever it raised
            error = e
        else:
            error = None
        finally:
            checks._IN_NOTEBOOK = None
        if printed.getvalue():
            outputs.append(new_output("stream", name="stdout", text=printed.getvalue()))
        if error is not None:
            last = traceback.extract_tb(error.__traceback__)[-1:]
            where = f" (line {last[0].lineno} of the test)" if last and last[0].filename.startswith("<test") else ""
            outputs.append(new_output("error", ename=type(error).__name__, evalue=str(error),
                                      traceback=[f"{type(error).__name__}: {error}{where}"]))
        return outputs


def _is_test(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


class JudgedExecute(Execute):
    """nbgrader's Execute, with autograded test cells decided by the ``Judge``."""

    judge_tests = Bool(True, help="Decide test cells in the grader's process (not the kernel).").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        exercises = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                     if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]
        self._judge = Judge(self, exercises)
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if self.judge_tests and cell.cell_type == "code":
            meta = cell.metadata.get("nbgrader", {})
            if _is_test(cell):
                self._check_assign_resources(resources)
                outputs = self._judge.run_test(cell.source, index)
                self.nb.cells[index] = cell  # nbclient filed each call's cell at this index
                cell.outputs = outputs
                cell.execution_count = None
                return cell, self.resources
            if meta.get("locked") and not meta.get("solution"):
                self._judge.index = index  # a call it makes to the kernel is filed at this cell
                self._judge.add_trusted(cell.source)  # restored from the gradebook: trusted
        return super().preprocess_cell(cell, resources, index)
