"""Linux primitives that confine one grading run: cgroups, namespaces, mounts, limits, identity.

Everything here degrades instead of failing: without root (a laptop) there are no cgroups,
namespaces or separate uids, only resource limits and a process group. ``capabilities()`` says
what this host gives, and the README says what each missing piece means.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

CGROUP_ROOT = Path("/sys/fs/cgroup")
CLONE_NEWNS, CLONE_NEWNET = 0x00020000, 0x40000000
MS_BIND, MS_REC, MS_PRIVATE, MS_RDONLY, MS_REMOUNT = 4096, 16384, 1 << 18, 1, 32

_libc = ctypes.CDLL(None, use_errno=True)


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


@dataclass(frozen=True)
class Capabilities:
    root: bool
    cgroups: bool  # cgroup v1 memory + pids controllers we may write to
    namespaces: bool  # mount + network namespaces

    def describe(self) -> str:
        parts = [
            "separate uid for student code" if self.root else "student code runs as this user",
            "cgroup memory/pids limits" if self.cgroups else "rlimits only (no cgroups)",
            "no network, private mounts" if self.namespaces else "network and files NOT isolated",
        ]
        return ", ".join(parts)


def capabilities() -> Capabilities:
    root = os.geteuid() == 0
    cgroups = root and all(os.access(CGROUP_ROOT / c, os.W_OK) for c in ("memory", "pids"))
    namespaces = False
    if root:
        probe = subprocess.run(["unshare", "--net", "--mount", "true"], capture_output=True)
        namespaces = probe.returncode == 0
    return Capabilities(root, cgroups, namespaces)


KERNEL_RESERVED_PIDS = 32  # kept for the grader's own threads, whatever the kernel forks


class JobCgroup:
    """A memory + pids cgroup (v1) holding every process of one job, kernels included.

    The kernel (and all it starts) sits in a ``kernel`` pids sub-cgroup with a lower limit, so a
    fork bomb cannot leave the grader without threads: it is then the student's cell that fails.
    """

    def __init__(self, name: str, memory_mib: int, max_pids: int):
        self.dirs = [CGROUP_ROOT / c / "arena-hub" / name for c in ("memory", "pids")]
        for d in self.dirs:
            d.mkdir(parents=True, exist_ok=True)
        kernel = self.dirs[1] / "kernel"
        kernel.mkdir(exist_ok=True)
        (kernel / "pids.max").write_text(str(max(16, max_pids - KERNEL_RESERVED_PIDS)))
        self.dirs.insert(0, kernel)  # removed before its parent
        mem = self.dirs[1]
        (mem / "memory.limit_in_bytes").write_text(str(memory_mib * 1024 * 1024))
        swap = mem / "memory.memsw.limit_in_bytes"
        if swap.exists():  # no swapping past the limit either
            try:
                swap.write_text(str(memory_mib * 1024 * 1024))
            except OSError:
                pass
        (self.dirs[2] / "pids.max").write_text(str(max_pids))

    def join(self, pid: int = 0) -> None:
        for d in self.dirs[1:]:
            (d / "cgroup.procs").write_text(str(pid or os.getpid()))

    def pids(self) -> set[int]:
        found = set()
        for d in self.dirs:
            try:
                found |= {int(p) for p in (d / "cgroup.procs").read_text().split()}
            except OSError:
                pass
        return found

    def oom_killed(self) -> bool:
        try:
            text = (self.dirs[1] / "memory.oom_control").read_text()
            if "oom_kill " in text:
                return int(text.split("oom_kill ")[1].split()[0]) > 0
            return int((self.dirs[1] / "memory.failcnt").read_text()) > 0
        except (OSError, ValueError, IndexError):
            return False

    def kill_all(self) -> set[int]:
        """SIGKILL everything in the cgroup; the pids killed (some may be our zombies now)."""
        # Freeze-free kill loop: a fork bomb may add processes while we kill; pids.max bounds it.
        killed: set[int] = set()
        for _ in range(50):
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed.add(pid)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)
        return killed

    def remove(self, patience: float = 10.0) -> bool:
        """Kill, reap and remove the cgroup; False if it is still busy after ``patience`` s."""
        killed = self.kill_all()
        deadline = time.monotonic() + patience
        for d in self.dirs:
            while True:
                # As child subreaper the grader inherits a student's orphans: they stay zombies,
                # pinning the cgroup, until reaped. Reap only those pids (never another run's).
                for pid in list(killed):
                    try:
                        if os.waitpid(pid, os.WNOHANG)[0]:
                            killed.discard(pid)
                    except ChildProcessError:
                        killed.discard(pid)
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        return False
                    killed |= self.kill_all()
                    time.sleep(0.05)
        return True

    @classmethod
    def sweep(cls) -> None:
        """Remove cgroups left by grading processes that no longer exist (a crash, a kill -9),
        and this process's own (call it when none of its runs is in flight): a process that was
        slow to die under load can outlast ``remove``'s patience."""
        for controller in ("memory", "pids"):
            base = CGROUP_ROOT / controller / "arena-hub"
            if not base.is_dir():
                continue
            for d in base.iterdir():
                owner = d.name.rsplit("-", 1)[-1]
                if not d.is_dir() or not owner.isdigit():
                    continue
                if int(owner) != os.getpid() and psutil.pid_exists(int(owner)):
                    continue
                stale = cls.__new__(cls)
                stale.dirs = [*(k for k in [d / "kernel"] if k.is_dir()), d]
                stale.remove(patience=2.0)


def join_kernel_cgroups(pid: int) -> None:
    """Move this process into the job cgroups of process ``pid``, its kernel part for pids."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for c in ("memory", "pids"):
            if c in controllers.split(",") and path.startswith("/arena-hub/"):
                d = CGROUP_ROOT / c / path.lstrip("/")
                if c == "pids" and (d / "kernel").is_dir():
                    d = d / "kernel"
                (d / "cgroup.procs").write_text(str(os.getpid()))


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None):
    _check(_libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None,
                       ctypes.c_ulong(flags), data.encode() if data else None), f"mount {target}")


def enter_namespaces(hide: list[Path], keep: list[Path]) -> None:
    """In this (single-threaded, root) process: new mount + network namespaces.

    Every path in ``hide`` is covered by an empty tmpfs; every path in ``keep`` (which may lie
    inside a hidden one) is bound back at its own path. The network namespace has only loopback.
    """
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWNET), "unshare")
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    keep_fds = {p: os.open(p, os.O_RDONLY | os.O_DIRECTORY) for p in map(Path, keep) if p.is_dir()}
    hidden = []
    for p in sorted({Path(h) for h in hide if Path(h).exists()}, key=lambda p: len(p.parts)):
        if any(p.is_relative_to(h) for h in hidden):
            continue
        if p.is_dir():
            _mount("tmpfs", str(p), "tmpfs", 0, "size=1m,mode=755")
        else:
            _mount("/dev/null", str(p), None, MS_BIND)
        hidden.append(p)
    for p, fd in sorted(keep_fds.items(), key=lambda kv: len(kv[0].parts)):
        if any(p.is_relative_to(h) for h in hidden):
            p.mkdir(parents=True, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", str(p), None, MS_BIND | MS_REC)
        os.close(fd)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, capture_output=True)


def set_limits(file_mib: int, nofile: int = 1024) -> None:
    """Limits every process of the job inherits."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_mib * 1024 * 1024,) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))


def set_child_subreaper(on: bool) -> None:
    PR_SET_CHILD_SUBREAPER = 36
    _libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0)


def drop_privileges(uid: int) -> None:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
