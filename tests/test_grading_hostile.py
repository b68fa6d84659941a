"""Hostile submissions are contained and reported, and every other submission grades normally.

One engine run per backend (local, docker; 2 at a time) grades the reference solution next to one submission
per attack. Each attack is the reference notebook plus the attack, so any point it loses or any
failure it causes comes from the attack alone.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import psutil
import pytest
from nbformat.v4 import new_code_cell

from arena_hub import release
from arena_hub.grading import engine, sandbox
from arena_hub.grading.docker import DockerBackend, DockerSettings
from arena_hub.grading.local import KERNEL_UID_BASE
from arena_hub.hub import INSTALL_ROOT
from tests import mutants
from tests.helpers import REPO, notebook, scores, scratch_course, submit_files

AID = "c0d0-prereqs"
LIMITS = {"cell_timeout_seconds": 5, "timeout_seconds": 30, "memory_mib": 1200}
CAPS = sandbox.capabilities()


def with_cell(nb, code: str):
    """The notebook with an extra student cell right after the provided imports."""
    nb = nbformat.from_dict(nb)
    nb.cells.insert(2, new_code_cell(code))
    return nb


def with_solution(nb, exercise: str, code: str):
    nb = nbformat.from_dict(nb)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == exercise)
    cell.source = code
    return nb


def with_test_cell(nb, grade_id: str, edit):
    nb = nbformat.from_dict(nb)
    edit(next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id))
    return nb


class Listener:
    """A TCP server on host loopback that records whoever reaches it (nobody should)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hits, self._stop = [], threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.hits.append(conn.recv(100))
            conn.close()

    def close(self):
        self._stop.set()
        self.thread.join()
        self.sock.close()


def make_backend(name, request):
    """The backend under test: every attack runs on each backend that runs here."""
    if name == "local":
        return None  # the engine's default
    engine_ = request.getfixturevalue("docker_engine")
    settings = DockerSettings(image=engine_.image, python=sys.executable, extra_mounts=[
        f"{sys.prefix}:{sys.prefix}:ro", f"{INSTALL_ROOT / 'arena_hub'}:{INSTALL_ROOT / 'arena_hub'}:ro"])
    return DockerBackend(settings, workers=2, env=engine_.env)


@pytest.fixture(scope="module", params=["local", "docker"])
def hostile(tmp_path_factory, request):
    tmp = tmp_path_factory.mktemp(f"hostile-{request.param}")
    layout = scratch_course(tmp)
    release.build(layout, [AID])
    src = notebook(layout, "source", AID)
    listener = Listener()
    secrets = [layout.source / AID / f"{AID}.ipynb", layout.gradebook,
               layout.submitted / "reference" / AID / f"{AID}.ipynb", REPO / "source" / AID / f"{AID}.ipynb",
               REPO / "tests" / "mutants" / "c0d0_prereqs.py"]
    targets = [layout.source / AID / "pwned.txt", layout.release / AID / "pwned.txt",
               layout.data_dir / "pwned.txt", Path("/tmp") / f"pwned-{tmp.name}.txt", REPO / "pwned.txt"]
    buggy = mutants.apply(src, mutants.for_day(AID)[0])  # rearrange_1 wrong: loses test_rearrange_1
    attacks = {
        "reference": src,
        "endless_loop": with_solution(src, "rearrange_1", "def rearrange_1():\n    while True:\n        pass"),
        "slow_notebook": nbformat.from_dict({**src, "cells": src.cells[:2] + [
            new_code_cell("import time\ntime.sleep(4)") for _ in range(12)] + src.cells[2:]}),
        "memory_bomb": with_cell(src, "hog = bytearray(3 * 1024**3)"),
        "fork_bomb": with_cell(src, (
            "import os, time\nforks = 0\ntry:\n    while True:\n        if os.fork() == 0:\n"
            "            time.sleep(600)\n            os._exit(0)\n        forks += 1\n"
            "except OSError as e:\n    print('fork refused after', forks, type(e).__name__)")),
        "output_flood": with_cell(src, "import sys\nfor _ in range(300_000):\n    sys.stdout.write('x' * 999 + '\\n')"),
        "write_outside": with_cell(src, (
            f"import json\nresult = {{}}\nfor p in {json.dumps([str(t) for t in targets])}:\n"
            "    try:\n        open(p, 'w').write('pwned')\n        result[p] = 'WROTE'\n"
            "    except Exception as e:\n        result[p] = type(e).__name__\n"
            "print('WRITE-ATTEMPTS', json.dumps(result))")),
        "read_secrets": with_cell(src, (
            f"import json, os\nresult = {{}}\nfor p in {json.dumps([str(s) for s in secrets])}:\n"
            "    try:\n        open(p, 'rb').read(1)\n        result[p] = 'READ'\n"
            "    except Exception as e:\n        result[p] = type(e).__name__\n"
            f"try:\n    result['listing'] = os.listdir({str(layout.submitted)!r})\n"
            "except Exception as e:\n    result['listing'] = type(e).__name__\n"
            "print('READ-ATTEMPTS', json.dumps(result))")),
        "network": with_cell(src, (
            "import socket\ntry:\n"
            f"    socket.create_connection(('127.0.0.1', {listener.port}), timeout=2).sendall(b'LEAK')\n"
            "    print('NET-CONNECTED')\nexcept OSError as e:\n    print('NET-REFUSED', type(e).__name__)")),
        "sys_exit": with_cell(src, "import sys\nsys.exit(3)"),
        "os_exit": with_cell(src, "import os\nos._exit(0)"),
        "kill_own_kernel": with_cell(src, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"),
        "kill_the_grader": with_cell(src, (
            "import os, signal\ntry:\n    os.kill(os.getppid(), signal.SIGKILL)\n    print('KILLED-PARENT')\n"
            "except OSError as e:\n    print('KILL-REFUSED', type(e).__name__)")),
        "edited_test_cell": with_test_cell(buggy, "test_rearrange_1", lambda c: setattr(c, "source", "pass")),
        "edited_metadata": with_test_cell(buggy, "test_rearrange_1",
                                          lambda c: c.metadata["nbgrader"].update(points=1000)),
    }
    submit_files(layout, AID, attacks)
    out = io.StringIO()
    try:
        backend = make_backend(request.param, request)
        report = engine.grade(layout, AID, workers=2, stream=out, limits=LIMITS, backend=backend)
    finally:
        listener.close()
    outcomes = {o.job.student_id: o for o in report.graded}
    docker_env = backend.env if backend is not None else None
    return layout, outcomes, listener, targets, out.getvalue(), request.param, docker_env


def outputs(layout, student) -> str:
    nb = nbformat.read(layout.autograded / student / AID / f"{AID}.ipynb", as_version=4)
    return "\n".join(o.get("text", "") + o.get("evalue", "") for c in nb.cells if c.cell_type == "code"
                     for o in c.get("outputs", []))


def total(layout, student) -> float:
    return sum(scores(layout, AID, student).values())


def test_every_other_submission_grades_normally(hostile):
    layout, outcomes, *_ = hostile
    assert outcomes["reference"].ok and total(layout, "reference") == 100


def test_endless_loop_loses_only_its_test(hostile):
    layout, outcomes, *_ = hostile
    assert outcomes["endless_loop"].ok
    assert scores(layout, AID, "endless_loop")["test_rearrange_1"] == 0
    assert total(layout, "endless_loop") == 96


def test_slow_notebook_is_stopped_at_the_time_limit(hostile):
    layout, outcomes, *_ = hostile
    o = outcomes["slow_notebook"]
    assert not o.ok and "time limit" in o.reason and o.seconds < LIMITS["timeout_seconds"] + 15
    assert total(layout, "slow_notebook") == 0


@pytest.mark.skipif(not CAPS.cgroups, reason="memory limits need cgroups (root)")
def test_memory_bomb_is_stopped(hostile):
    layout, outcomes, *_ = hostile
    o = outcomes["memory_bomb"]
    assert not o.ok and "memory" in o.reason, o.reason
    assert total(layout, "memory_bomb") == 0


@pytest.mark.skipif(not CAPS.cgroups, reason="process limits need cgroups (root)")
def test_fork_bomb_is_capped_and_cleaned_up(hostile):
    layout, outcomes, *_ = hostile
    o = outcomes["fork_bomb"]
    if o.ok:  # capped by the process limit; the student may lose tests that then cannot start threads
        forks = int(outputs(layout, "fork_bomb").split("fork refused after ")[1].split()[0])
        assert forks < 256
    else:  # or the copies hit the memory limit first, or the run its time limit: a clear failure
        assert any(w in o.reason for w in ("memory", "kernel died", "time limit")), o.reason
    if hostile[5] == "local":
        left = [p for p in psutil.process_iter(["uids"]) if p.info["uids"] and
                KERNEL_UID_BASE <= p.info["uids"].real < KERNEL_UID_BASE + 16]
        assert not left, f"processes of grading runs still alive: {left}"
        assert not [p for p in (sandbox.CGROUP_ROOT / "pids" / "arena-hub").iterdir() if p.is_dir()]
    else:
        ps = subprocess.run(["docker", "ps", "-aq"], env=hostile[6], capture_output=True, text=True)
        assert ps.stdout.strip() == "", "grading containers left behind"


def test_output_flood_is_contained(hostile):
    layout, outcomes, *_ = hostile
    o = outcomes["output_flood"]
    if o.ok:  # nbgrader caps what it keeps; the rest of the notebook still grades
        assert total(layout, "output_flood") == 100
        assert (layout.autograded / "output_flood" / AID / f"{AID}.ipynb").stat().st_size < 5_000_000
    else:
        assert "memory" in o.reason or "time limit" in o.reason, o.reason


@pytest.mark.skipif(not CAPS.namespaces, reason="file isolation needs mount namespaces (root)")
def test_writing_outside_the_working_copy_fails(hostile):
    layout, outcomes, _, targets, *_ = hostile
    assert outcomes["write_outside"].ok and total(layout, "write_outside") == 100
    assert not [t for t in targets if t.exists()]
    attempts = json.loads(outputs(layout, "write_outside").split("WRITE-ATTEMPTS ")[1].splitlines()[0])
    if hostile[5] == "docker":  # a container's own /tmp is a private tmpfs that vanishes with it
        attempts = {p: r for p, r in attempts.items() if not p.startswith("/tmp/pwned-")}
    assert "WROTE" not in attempts.values(), attempts


@pytest.mark.skipif(not CAPS.namespaces, reason="file isolation needs mount namespaces (root)")
def test_reading_other_submissions_source_or_gradebook_fails(hostile):
    layout, outcomes, *_ = hostile
    assert outcomes["read_secrets"].ok
    attempts = json.loads(outputs(layout, "read_secrets").split("READ-ATTEMPTS ")[1].splitlines()[0])
    assert "READ" not in attempts.values() and attempts["listing"] in ("FileNotFoundError", []), attempts


@pytest.mark.skipif(not CAPS.namespaces, reason="no network namespace without root")
def test_network_is_off(hostile):
    layout, outcomes, listener, *_ = hostile
    assert outcomes["network"].ok
    assert "NET-REFUSED" in outputs(layout, "network") and listener.hits == []


def test_sys_exit_fails_only_its_cell(hostile):
    layout, outcomes, *_ = hostile
    assert outcomes["sys_exit"].ok and total(layout, "sys_exit") == 100


@pytest.mark.parametrize("student", ["os_exit", "kill_own_kernel"])
def test_killing_the_kernel_is_a_clear_failure(hostile, student):
    layout, outcomes, *_ = hostile
    o = outcomes[student]
    assert not o.ok and "kernel died" in o.reason, o.reason
    assert total(layout, student) == 0


@pytest.mark.skipif(not CAPS.root, reason="a separate kernel uid needs root")
def test_the_kernel_cannot_kill_the_grader(hostile):
    layout, outcomes, *_ = hostile
    assert outcomes["kill_the_grader"].ok and total(layout, "kill_the_grader") == 100
    assert "KILL-REFUSED PermissionError" in outputs(layout, "kill_the_grader")


@pytest.mark.parametrize("student", ["edited_test_cell", "edited_metadata"])
def test_edited_test_cells_are_restored(hostile, student):
    layout, outcomes, *_ = hostile
    assert outcomes[student].ok
    got = scores(layout, AID, student)
    assert got["test_rearrange_1"] == 0 and total(layout, student) == 96


@pytest.mark.skipif(not CAPS.cgroups, reason="needs cgroups (root)")
def test_job_cgroups_are_removed_and_stale_ones_swept():
    """A student's orphan (re-parented to the grader) is killed and its cgroup removed; a cgroup
    left by a dead grader process is swept, one of a live grader is not."""
    cg = sandbox.JobCgroup("zombie-test-0", 256, 32)
    sandbox.set_child_subreaper(True)
    try:
        child = subprocess.Popen([sys.executable, "-c", "import os, time\nif os.fork() == 0: time.sleep(60)"],
                                 preexec_fn=lambda: cg.join())
        child.wait()  # its grandchild is now an orphan re-parented to us, in the cgroup
        assert cg.pids(), "the orphan should be in the cgroup"
        assert cg.remove(patience=5), "the cgroup is still busy after its processes were killed"
    finally:
        sandbox.set_child_subreaper(False)
    assert not any(d.exists() for d in cg.dirs)
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = sandbox.JobCgroup(f"stale-job-{dead.pid}", 256, 32)
    alive = sandbox.JobCgroup(f"other-grader-job-{os.getppid()}", 256, 32)  # a live grader's
    try:
        sandbox.JobCgroup.sweep()
        assert not any(d.exists() for d in stale.dirs), "a dead grader's cgroup was not swept"
        assert all(d.exists() for d in alive.dirs), "a live grader's cgroup was swept"
    finally:
        alive.remove()


FACTS = """import json, os, random, resource, socket, sys, tempfile
import numpy as np
facts = {
    "uid": (os.getuid(), os.geteuid(), os.getgid(), os.getgroups()),
    "cwd": os.getcwd(), "path": sys.path, "env": dict(os.environ), "argv0": sys.argv[0],
    "cgroups": sorted(l.split(":", 2)[2] for l in open("/proc/self/cgroup").read().splitlines()
                      if l.split(":")[1] in ("memory", "pids")),
    "interfaces": [n for _, n in socket.if_nameindex()],
    "limits": [resource.getrlimit(getattr(resource, r)) for r in ("RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CORE")],
    "source_visible": os.path.exists(SOURCE), "tmp": tempfile.gettempdir(),
    "random": [random.random(), float(np.random.rand())],
    "torch_was_loaded": WARM,
}
print("FACTS", json.dumps(facts))
"""


@pytest.mark.skipif(not (CAPS.cgroups and CAPS.namespaces), reason="warm kernels need root, cgroups, namespaces")
def test_warm_kernels_are_confined_like_cold_ones(tmp_path):
    """Kernels forked from the zygote see what a freshly started kernel sees (uid, folder,
    sys.path, environment, cgroups, network, limits, hidden paths) but their own random state."""
    from arena_hub.grading.local import LocalBackend

    facts = {}
    for mode in ("warm", "cold"):
        layout = scratch_course(tmp_path / mode)
        release.build(layout, [AID])
        src = notebook(layout, "source", AID)
        nb = nbformat.from_dict(src)
        nb.cells.insert(0, new_code_cell("import sys\nWARM = 'torch' in sys.modules"))
        nb = with_cell(nb, f"SOURCE = {str(layout.source)!r}\n" + FACTS)
        students = ["a", "b"] if mode == "warm" else ["a"]
        submit_files(layout, AID, {s: nb for s in students})
        backend = LocalBackend(layout, workers=2, warm_imports=None if mode == "cold" else ("torch", "numpy"))
        report = engine.grade(layout, AID, backend=backend, stream=io.StringIO())
        assert not report.failed, [o.reason for o in report.failed]
        for s in students:
            assert total(layout, s) == 100, f"{mode} kernel: the reference lost points"
            facts[mode, s] = json.loads(outputs(layout, s).split("FACTS ")[1].splitlines()[0])
    warm, other, cold = facts["warm", "a"], facts["warm", "b"], facts["cold", "a"]
    assert warm.pop("torch_was_loaded") and not cold.pop("torch_was_loaded"), "the kernel was not warm"
    other.pop("torch_was_loaded")
    assert warm.pop("random") != other.pop("random"), "sibling warm kernels share their random state"
    cold.pop("random")
    assert cold["interfaces"] == ["lo"] and not cold["source_visible"]
    assert all("/arena-hub/" in c for c in warm["cgroups"]) and warm["cgroups"] != other["cgroups"]

    def comparable(f):  # paths differ by course folder and job id only
        return json.loads(json.dumps(f).replace(str(tmp_path / "warm"), "<tmp>").replace(str(tmp_path / "cold"), "<tmp>"))

    for f in (warm, cold):
        f["cgroups"] = [c.rsplit("-", 1)[0] for c in f["cgroups"]]
        f["env"].pop("JPY_PARENT_PID")  # a pid
    w, c = comparable(warm), comparable(cold)
    assert w["env"] == c["env"], {k: (w["env"].get(k), c["env"].get(k)) for k in set(w["env"]) ^ set(c["env"]) | {k for k in w["env"] if w["env"][k] != c["env"].get(k)}}
    assert w == c
