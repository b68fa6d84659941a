"""Run a check on N ranks, for the multi-process days (chapter 3).

``run_on_ranks(check, world_size)`` forks ``world_size`` processes from the kernel, joins them
in a gloo process group over loopback and calls ``check(rank, world_size)`` on each; it raises
one AssertionError naming every rank that failed and why. The kernel's definitions (the
student's functions) are inherited by the fork, so a test cell needs nothing else.

The number of ranks comes from the assignment's metadata: the grader sets
``ARENA_HUB_WORLD_SIZE`` from ``[grading] world_size``; ``world_size(default)`` reads it.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import socket
import traceback


def world_size(default: int = 2) -> int:
    return int(os.environ.get("ARENA_HUB_WORLD_SIZE") or default)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank_main(check, rank, size, port, conn):
    import sys
    import tempfile

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
            check(rank, size)
        finally:
            dist.destroy_process_group()
        conn.send(None)
    except BaseException as e:  # noqa: BLE001 -- report whatever broke on this rank
        message = str(e) if isinstance(e, AssertionError) else \
            f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=3)}"
        log.flush()
        log.seek(0)
        printed = [ln for ln in log.read()[-2000:].splitlines() if "[c10d]" not in ln]
        if printed:
            message += "\n  output of this rank:\n  " + "\n  ".join(printed[-10:])
        conn.send(message)
    finally:
        conn.close()
        os._exit(0)


def run_on_ranks(check, size: int, timeout: float = 60.0) -> None:
    """Call ``check(rank, size)`` on ``size`` gloo ranks; fail if any rank fails or hangs."""
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
    failures = []
    for rank, (p, pipe) in enumerate(zip(procs, pipes)):
        if pipe.poll(timeout):
            try:
                result = pipe.recv()
            except EOFError:
                result = "the rank exited without reporting (killed?)"
        else:
            result = f"no answer within {timeout:.0f}s (a send without a matching recv?)"
        if result:
            failures.append(f"rank {rank}: {result}")
    for p in procs:
        p.join(1)
        if p.is_alive():
            p.kill()
            p.join()
    if failures:
        raise AssertionError(f"{len(failures)} of {size} ranks failed:\n" + "\n".join(failures))
