"""Run a check on N ranks, for the multi-process days (chapter 3).

``run_on_ranks(check, world_size)`` forks ``world_size`` processes from the kernel, joins them
in a gloo process group over loopback, calls ``check(rank, world_size)`` on each and returns
their results in rank order; it raises one AssertionError naming every rank that failed and
why. When grading, a test cell asks the kernel for the ranks' results (``in_notebook``) and
compares them in the grader, like any other answer. The kernel's definitions (the
student's functions) are inherited by the fork, so a test cell needs nothing else.

The number of ranks comes from the assignment's metadata: the grader sets
``ARENA_HUB_WORLD_SIZE`` from ``[grading] world_size``; ``world_size(default)`` reads it.

Grading containers with GPUs (docker, Kubernetes Jobs) set ``ARENA_HUB_LAUNCHER=torchrun``:
the ranks are then started by ``torchrun --standalone --nproc_per_node=N`` as fresh processes
(one GPU each, NCCL when every rank has a GPU, gloo otherwise). The check and the student's
functions it uses reach them by value (cloudpickle, from the kernel to its own children: both
sides are the student's), and each rank reports through a file.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import socket
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path


def world_size(default: int = 2) -> int:
    return int(os.environ.get("ARENA_HUB_WORLD_SIZE") or default)


def launcher() -> str:
    """How ranks start: ``fork`` (CPU, gloo; the default) or ``torchrun``."""
    return os.environ.get("ARENA_HUB_LAUNCHER") or "fork"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _failure(e: BaseException) -> str:
    return str(e) if isinstance(e, AssertionError) else \
        f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=3)}"


def _rank_main(check, rank, size, port, conn):
    import torch.distributed as dist

    # A forked rank must not write into the kernel's output channels (nbgrader counts anything
    # on stderr as a failed test, and c10d warns there): keep its output, report it on failure.
    log = tempfile.TemporaryFile(mode="w+")
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    sys.stdout = sys.stderr = log
    try:
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                          WORLD_SIZE=str(size))
        # Loopback only: gloo would otherwise pick the interface of the host name, which a
        # grading sandbox (no network) does not have.
        os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
        dist.init_process_group("gloo", rank=rank, world_size=size)
        try:
            result = check(rank, size)
        finally:
            dist.destroy_process_group()
        conn.send_bytes(pickle.dumps(("ok", result)))  # by value: this process exits next
    except BaseException as e:  # noqa: BLE001 -- report whatever broke on this rank
        message = _failure(e)
        log.flush()
        log.seek(0)
        printed = [ln for ln in log.read()[-2000:].splitlines() if "[c10d]" not in ln]
        if printed:
            message += "\n  output of this rank:\n  " + "\n  ".join(printed[-10:])
        conn.send_bytes(pickle.dumps(("failed", message)))
    finally:
        conn.close()
        os._exit(0)


def _report(outcomes: list[tuple[str, object]]) -> list:
    """``[(status, value)]`` per rank -> the values, or one error naming every failed rank."""
    failures = [f"rank {rank}: {value}" for rank, (status, value) in enumerate(outcomes) if status != "ok"]
    if failures:
        raise AssertionError(f"{len(failures)} of {len(outcomes)} ranks failed:\n" + "\n".join(failures))
    return [value for _, value in outcomes]


def run_on_ranks(check, size: int, timeout: float = 60.0) -> list:
    """``[check(rank, size) for each rank]``, each on its own rank; fail if any fails or hangs."""
    if launcher() == "torchrun":
        return _run_torchrun(check, size, timeout)
    ctx = mp.get_context("fork")
    port = _free_port()
    procs, pipes = [], []
    for rank in range(size):
        parent, child = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_rank_main, args=(check, rank, size, port, child), daemon=True)
        p.start()
        child.close()
        procs.append(p)
        pipes.append(parent)
    outcomes = []
    for p, pipe in zip(procs, pipes):
        if pipe.poll(timeout):
            try:
                outcomes.append(pickle.loads(pipe.recv_bytes()))
            except EOFError:
                outcomes.append(("failed", "the rank exited without reporting (killed?)"))
        else:
            outcomes.append(("failed", f"no answer within {timeout:.0f}s (a send without a matching recv?)"))
    for p in procs:
        p.join(1)
        if p.is_alive():
            p.kill()
            p.join()
    return _report(outcomes)


def _run_torchrun(check, size: int, timeout: float) -> None:
    import cloudpickle

    with tempfile.TemporaryDirectory(prefix="ranks-") as d:
        folder = Path(d)
        # By value: the test cell's check and the student's functions live in the kernel's
        # __main__, which a fresh rank process does not have.
        (folder / "check.pkl").write_bytes(cloudpickle.dumps(check))
        env = {**os.environ, "GLOO_SOCKET_IFNAME": os.environ.get("GLOO_SOCKET_IFNAME", "lo")}
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc_per_node={size}", "--local-addr=127.0.0.1",  # loopback only: no network
               "-m", "arena_hub.distributed", str(folder)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env=env, start_new_session=True)
        try:
            tail = proc.communicate(timeout=timeout)[0][-1500:]
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)  # torchrun and every rank it started
            proc.communicate()
            proc, tail = None, ""
        outcomes = []
        for rank in range(size):
            report = folder / f"rank{rank}.pkl"
            if report.exists():  # written by our own rank process, the kernel's child
                outcomes.append(cloudpickle.loads(report.read_bytes()))
            elif proc is None:
                outcomes.append(("failed", f"no answer within {timeout:.0f}s (a send without a matching recv?)"))
            else:
                outcomes.append(("failed", "the rank exited without reporting (killed?)\n  torchrun said:\n" + tail))
        return _report(outcomes)


def _torchrun_rank(folder: Path) -> None:
    """One rank started by torchrun: RANK, WORLD_SIZE and LOCAL_RANK come from it."""
    import cloudpickle
    import torch
    import torch.distributed as dist

    rank, size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local = int(os.environ.get("LOCAL_RANK", rank))
    try:
        gpus = torch.cuda.is_available() and torch.cuda.device_count() >= size
        if gpus:
            torch.cuda.set_device(local)
        check = cloudpickle.loads((folder / "check.pkl").read_bytes())
        dist.init_process_group("nccl" if gpus else "gloo")
        try:
            outcome = ("ok", check(rank, size))
        finally:
            dist.destroy_process_group()
    except BaseException as e:  # noqa: BLE001 -- report whatever broke on this rank
        outcome = ("failed", _failure(e))
    (folder / f"rank{rank}.pkl").write_bytes(cloudpickle.dumps(outcome))


if __name__ == "__main__":
    _torchrun_rank(Path(sys.argv[1]))
