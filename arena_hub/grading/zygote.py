"""Warm kernels: the local backend's kernels are forked from a process that imported torch once.

A fresh kernel spends about 2.5 CPU-seconds before the student's first line runs (Python,
ipykernel, and above all ``import torch``), more than half of grading a day-0.0 notebook. The
zygote is a clean interpreter (exec'd, never forked from the grader, so it holds no gradebook,
hidden test or other submission in its memory) that imports the course's heavy libraries and
then forks one kernel per request.

The request comes from the kernel launcher (``kernel``) of a grading run, as root inside that
run's sandbox, over a root-only unix socket. The forked child takes on the run's confinement
before any student code exists: it joins the run's cgroups, enters its mount and network
namespaces (found through the launcher's pid, which the kernel reports via SO_PEERCRED), takes
its resource limits, environment, working directory and standard streams, reseeds the random
generators it shares with its siblings, drops to the run's kernel uid, and becomes ipykernel.
The launcher stays as the process jupyter_client manages: it forwards signals to the kernel and
exits when the kernel's pid is gone (not when some descriptor closes: a student's leftover
processes could hold that open). A fork of a process that merely imported torch (no threads, no
CUDA context yet) is safe to use, GPUs included.

``python -m arena_hub.grading.zygote SOCKET [MODULE ...]`` (started by the local backend).
"""

from __future__ import annotations

import importlib
import json
import os
import random
import resource
import signal
import socket
import struct
import sys
import tempfile
import time
from pathlib import Path

from . import sandbox

CLONE_NEWNET, CLONE_NEWNS = sandbox.CLONE_NEWNET, sandbox.CLONE_NEWNS
LIMITS = ("RLIMIT_FSIZE", "RLIMIT_CORE", "RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_AS")
DEFAULT_IMPORTS = ("torch", "numpy", "einops")


def _recv_request(conn: socket.socket) -> tuple[dict, list[int]]:
    data, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
    while not data.endswith(b"\n"):
        more = conn.recv(1 << 20)
        if not more:
            raise ConnectionError("request cut short")
        data += more
    return json.loads(data), fds


def _enter_namespaces(peer: int) -> None:
    for name, flag in (("net", CLONE_NEWNET), ("mnt", CLONE_NEWNS)):
        fd = os.open(f"/proc/{peer}/ns/{name}", os.O_RDONLY)
        try:
            sandbox._check(sandbox._libc.setns(fd, flag), f"setns {name}")
        finally:
            os.close(fd)


def _become_kernel(conn: socket.socket, request: dict, fds: list[int], peer: int) -> None:
    """In the forked child: take on the run's confinement, then run ipykernel. Never returns."""
    code = 70
    try:
        os.setsid()
        sandbox.join_kernel_cgroups(peer)
        _enter_namespaces(peer)
        for name, (soft, hard) in request["limits"].items():
            resource.setrlimit(getattr(resource, name), (soft, hard))
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        tempfile.tempdir = None  # cached by the zygote's imports: /tmp, hidden in the sandbox
        uid = int(request["uid"])
        copy = Path(request["env"]["HOME"]) / f".kernel-{os.getpid()}.json"
        fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, request["connection"].encode())
        os.close(fd)
        os.chown(copy, uid, uid)
        # Nothing of the zygote stays open in the kernel (the launcher watches the kernel's pid,
        # so processes the student leaves behind cannot keep the launcher alive).
        conn.detach()
        os.closerange(3, 65536)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sandbox.drop_privileges(uid)
        # Siblings share the zygote's generator states; a fresh interpreter seeds from entropy.
        random.seed()
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()
        import ipykernel_launcher  # (only its path: it runs nothing when imported)
        from ipykernel import kernelapp

        # As under `python -m ipykernel_launcher`, which drops the script's folder from the path.
        # Read from the environment when ipykernel was imported (in the zygote): say it again.
        argv = ["-f", str(copy), f"--IPKernelApp.parent_handle={os.environ.get('JPY_PARENT_PID', 0)}"]
        sys.argv = [ipykernel_launcher.__file__, *argv]
        del sys.path[0]

        kernelapp.launch_new_instance(argv=argv)
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 0
    except BaseException as e:  # noqa: BLE001 -- say why, then exit: never return to the loop
        print(f"warm kernel failed: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve(path: Path, modules: list[str]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    import ipykernel.kernelapp  # noqa: F401 -- and what it imports: IPython, zmq, tornado

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # kernels are reaped by the system
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    path.unlink(missing_ok=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    server.bind(str(path))
    os.umask(old)
    server.listen(16)
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        try:
            pid, uid, _ = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
            if uid != 0:  # the socket is root-only anyway
                raise PermissionError("only a grading run's launcher (root) may ask")
            request, fds = _recv_request(conn)
        except (OSError, ValueError, ConnectionError) as e:
            print(f"zygote: bad request: {e}", file=sys.stderr, flush=True)
            conn.close()
            continue
        child = os.fork()
        if child == 0:
            server.close()
            _become_kernel(conn, request, fds, pid)
        for fd in fds:
            os.close(fd)
        try:
            conn.sendall(json.dumps({"pid": child}).encode() + b"\n")
        except OSError:
            pass
        conn.close()


def request_kernel(path: str, uid: int, connection_file: str) -> int:
    """The launcher's side: ask for a kernel, relay signals to it, return when it exits."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    env = {k: v for k, v in os.environ.items() if k != "ARENA_HUB_ZYGOTE"}
    limits = {n: resource.getrlimit(getattr(resource, n)) for n in LIMITS}
    request = {"uid": uid, "cwd": os.getcwd(), "env": env, "limits": limits,
               "connection": Path(connection_file).read_text()}
    socket.send_fds(conn, [json.dumps(request).encode() + b"\n"], [0, 1, 2])
    reply = b""
    while not reply.endswith(b"\n"):
        more = conn.recv(4096)
        if not more:
            raise RuntimeError("the zygote did not start a kernel")
        reply += more
    kernel = json.loads(reply)["pid"]
    conn.close()

    def relay(sig, _frame):
        try:
            os.kill(kernel, sig)
        except ProcessLookupError:
            pass

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT, signal.SIGHUP):
        signal.signal(sig, relay)
    # The zygote reaps its kernels at once (SIGCHLD ignored): the pid is gone when the kernel is.
    while True:
        try:
            os.kill(kernel, 0)
        except ProcessLookupError:
            return 0
        time.sleep(0.1)


if __name__ == "__main__":
    serve(Path(sys.argv[1]), sys.argv[2:] or list(DEFAULT_IMPORTS))
