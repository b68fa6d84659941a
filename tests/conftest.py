"""Fixtures that start real parts: a JupyterHub + configurable-http-proxy on loopback."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
import requests

from arena_hub.course import Layout
from tests.helpers import REPO, scratch_course

ARTIFACTS = REPO / "test-artifacts"


def free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class Hub:
    url: str
    layout: Layout
    passwords: dict[str, str]
    proc: subprocess.Popen
    log: Path
    ports: dict[str, int]
    sessions: dict = field(default_factory=dict)

    def login(self, user: str, password: str | None = None) -> requests.Session:
        """Log in through the hub's login form, as a browser would; returns the cookie session."""
        s = requests.Session()
        r = s.get(f"{self.url}/hub/login")
        r.raise_for_status()
        r = s.post(f"{self.url}/hub/login", data={
            "username": user,
            "password": self.passwords[user] if password is None else password,
            "_xsrf": s.cookies.get("_xsrf"),
        }, allow_redirects=False)
        s.login_status = r.status_code
        return s

    def token(self, user: str) -> str:
        """An API token for ``user``, made by the user's own logged-in session."""
        if user not in self.sessions:
            s = self.login(user)
            assert s.login_status == 302, f"login of {user} failed ({s.login_status})"
            r = s.post(f"{self.url}/hub/api/users/{user}/tokens",
                       headers={"X-XSRFToken": s.cookies.get("_xsrf")},
                       json={"note": "tests", "expires_in": 3600})
            r.raise_for_status()
            self.sessions[user] = r.json()["token"]
        return self.sessions[user]

    def api(self, user: str, method: str, path: str, **kw) -> requests.Response:
        headers = {"Authorization": f"token {self.token(user)}", **kw.pop("headers", {})}
        return requests.request(method, f"{self.url}{path}", headers=headers, timeout=120, **kw)

    def start_server(self, user: str, timeout: float = 120) -> float:
        """Start ``user``'s server through the hub API; return the seconds it took to be ready."""
        t0 = time.monotonic()
        r = self.api(user, "POST", f"/hub/api/users/{user}/server")
        assert r.status_code in (201, 202), r.text
        while time.monotonic() - t0 < timeout:
            info = self.api(user, "GET", f"/hub/api/users/{user}").json()
            server = info.get("servers", {}).get("")
            if server and server.get("ready"):
                return time.monotonic() - t0
            time.sleep(0.5)
        raise AssertionError(f"{user}'s server did not become ready in {timeout}s; see {self.log}")


def start_hub(layout: Layout, log: Path, ports: dict[str, int], config: Path | None = None,
              env: dict | None = None) -> subprocess.Popen:
    """Start the hub exactly as the README's command does (`arena-hub hub [--config PROFILE]`)."""
    env = dict(os.environ, ARENA_HUB_COURSE_ROOT=str(layout.course_root), PYTHONUNBUFFERED="1", **(env or {}))
    env.pop("ARENA_HUB_EXCHANGE_DIR", None)
    cmd = [str(Path(sys.executable).parent / "arena-hub"), "hub", "--data-dir", str(layout.data_dir),
           "--port", str(ports["port"]), "--hub-port", str(ports["hub"]),
           "--proxy-api-port", str(ports["proxy_api"]), "--formgrader-port", str(ports["formgrader"]),
           "--dashboard-port", str(ports["dashboard"])]
    if config:
        cmd += ["--config", str(config)]
    return subprocess.Popen(cmd, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop_tree(proc: subprocess.Popen, timeout: float = 60) -> None:
    """Stop a process and everything it started, by PID (servers run in their own sessions)."""
    try:
        tree = [proc.pid] + [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        tree = [proc.pid]
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for pid in tree:
        try:
            psutil.Process(pid).kill()
        except psutil.NoSuchProcess:
            pass


@contextlib.contextmanager
def running_hub(tmp: Path, layout: Layout, config: Path | None = None, env: dict | None = None):
    """A real hub (+ proxy, formgrader, dashboard) on free loopback ports, stopped by PID after."""
    names = ("port", "hub", "proxy_api", "formgrader", "dashboard")
    ports = dict(zip(names, free_ports(len(names))))
    log = tmp / "hub.log"
    proc = start_hub(layout, log, ports, config, env)
    url = f"http://127.0.0.1:{ports['port']}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, f"hub exited early:\n{log.read_text()}"
            try:
                if requests.get(f"{url}/hub/api", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, f"hub did not come up:\n{log.read_text()}"
            time.sleep(0.5)
        text = log.read_text()
        passwords = dict(re.findall(r"^\s+(?:instructor|student)\s+(\S+)\s+(\S+)$", text, re.M))
        assert set(passwords) == {"instructor", "alice", "bob", "carol"}, text
        yield Hub(url, layout, passwords, proc, log, ports)
    finally:
        # A hub stopping its services and servers gracefully can take a minute; everything it
        # started is stopped by PID anyway.
        stop_tree(proc, timeout=15)


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hub")
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        with running_hub(tmp, scratch_course(tmp)) as h:
            yield h
    finally:
        (ARTIFACTS / "hub.log").write_text((tmp / "hub.log").read_text())


# ----------------------------------------------------------------------------------------------
# A real Docker engine, started by the tests with the network flags these machines require
# (no bridge, no NAT rules): containers use --network none.

# What the images' Dockerfile would otherwise apt-get (builds here have no Debian mirror inside).
ROOTFS_PACKAGES = ("python3", "python3-venv", "nodejs")
ROOTFS_CACHE = Path(f"/var/cache/arena-hub/bookworm-{'-'.join(ROOTFS_PACKAGES)}.tar")


def base_rootfs() -> Path:
    """A Debian bookworm minbase root file system with ROOTFS_PACKAGES, made once with debootstrap."""
    if not ROOTFS_CACHE.exists():
        ROOTFS_CACHE.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["debootstrap", "--variant=minbase", f"--include={','.join(ROOTFS_PACKAGES)}", "bookworm",
                            f"{tmp}/rootfs", "http://deb.debian.org/debian"], check=True,
                           capture_output=True)
            subprocess.run(["tar", "-C", f"{tmp}/rootfs", "-cf", f"{ROOTFS_CACHE}.tmp", "."], check=True)
        os.replace(f"{ROOTFS_CACHE}.tmp", ROOTFS_CACHE)
    return ROOTFS_CACHE


@dataclass
class DockerEngine:
    env: dict
    image: str


def docker(engine_: DockerEngine, *args, check=True, timeout=600) -> subprocess.CompletedProcess:
    """The docker CLI against the tests' engine; with ``check``, a failure shows its output."""
    proc = subprocess.run(["docker", *args], env=engine_.env, capture_output=True, text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, f"docker {' '.join(args[:6])}...: {proc.stdout[-2000:]}{proc.stderr[-2000:]}"
    return proc


def _start_engine(config) -> DockerEngine:
    """The session's Docker engine, started once (stopped by PID when the session ends)."""
    reuse = os.environ.get("ARENA_HUB_TEST_DOCKER_HOST")
    if reuse:
        # Development: an engine you started (with the network flags above) keeps built layers
        # between runs; the tests remove the containers they make, nothing else.
        env = dict(os.environ, DOCKER_HOST=reuse)
        if subprocess.run(["docker", "image", "inspect", "arena-hub-base:test"], env=env,
                          capture_output=True).returncode != 0:
            with open(base_rootfs(), "rb") as f:
                subprocess.run(["docker", "import", "-", "arena-hub-base:test"], stdin=f, env=env,
                               check=True, capture_output=True)
        return DockerEngine(env, "arena-hub-base:test")
    if not shutil.which("dockerd"):
        raise RuntimeError("dockerd is not installed: run bin/setup --for-tests (it installs docker.io)")
    tmp = Path(tempfile.mkdtemp(prefix="arena-hub-docker-"))
    sock = tmp / "docker.sock"
    proc = subprocess.Popen(
        ["dockerd", "--data-root", str(tmp / "data"), "--exec-root", str(tmp / "exec"),
         "--pidfile", str(tmp / "docker.pid"), "-H", f"unix://{sock}",
         "--bridge=none", "--iptables=false", "--ip-forward=false", "--ip-masq=false"],
        stdout=open(tmp / "dockerd.log", "w"), stderr=subprocess.STDOUT, start_new_session=True)
    env = dict(os.environ, DOCKER_HOST=f"unix://{sock}")

    def stop():
        ids = subprocess.run(["docker", "ps", "-aq"], env=env, capture_output=True, text=True).stdout.split()
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], env=env, capture_output=True)
        stop_tree(proc)
        shutil.rmtree(tmp, ignore_errors=True)

    config.add_cleanup(stop)
    deadline = time.monotonic() + 60
    while subprocess.run(["docker", "version"], env=env, capture_output=True).returncode != 0:
        if proc.poll() is not None:
            raise RuntimeError((tmp / "dockerd.log").read_text())
        if time.monotonic() > deadline:
            raise RuntimeError("dockerd did not start")
        time.sleep(0.5)
    with open(base_rootfs(), "rb") as f:
        subprocess.run(["docker", "import", "-", "arena-hub-base:test"], stdin=f, env=env,
                       check=True, capture_output=True)
    return DockerEngine(env, "arena-hub-base:test")


_SESSION: dict = {}  # the engine and the images build, shared by the fixtures and the hook below


def _engine_or_error(config) -> DockerEngine | Exception:
    if "engine" not in _SESSION:
        try:
            _SESSION["engine"] = _start_engine(config)
        except Exception as e:  # reported by every test that needs the engine
            _SESSION["engine"] = e
    return _SESSION["engine"]


@pytest.fixture(scope="session")
def docker_engine(request):
    engine_ = _engine_or_error(request.config)
    if isinstance(engine_, Exception):
        pytest.fail(f"no Docker engine: {engine_}")
    return engine_


@dataclass
class Images:
    student: str
    grader: str
    hub: str
    builds: list  # arena_hub.images.BuildResult of each


def _start_images_build(engine_: DockerEngine) -> subprocess.Popen:
    """`arena-hub images`, as an operator runs it, in a process of its own: the grading engine
    forks runs from this process, which must not have threads at work meanwhile."""
    from arena_hub import images as img

    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "images-build.log", "w")
    return subprocess.Popen([str(Path(sys.executable).parent / "arena-hub"), "images", "--base", engine_.image,
                             "--tag", "test", "--wheelhouse", str(img.default_wheelhouse())],
                            env=engine_.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _images_built(proc: subprocess.Popen) -> Images:
    from arena_hub.images import BuildResult

    proc.wait()  # (the engine's reaping of orphans may have collected it: the log says what happened)
    text = (ARTIFACTS / "images-build.log").read_text()
    found = re.findall(r"^(arena-hub-(\w+):\S+)\s+([\d.]+) GiB\s+built in (\d+) s$", text, re.M)
    builds = [BuildResult(target, image, float(seconds), int(float(gib) * 2**30)) for image, target, gib, seconds in found]
    if sorted(b.target for b in builds) != ["grader", "hub", "student"]:
        pytest.fail(f"building the images failed:\n{text[-5000:]}")
    names = {b.target: b.image for b in builds}
    return Images(names["student"], names["grader"], names["hub"], builds)


def pytest_collection_finish(session):
    """Start building the images as soon as a selected test needs them: the build is mostly
    disk and loopback traffic and overlaps the CPU-bound tests that run before (the day tests),
    instead of adding minutes of its own to the suite."""
    if session.config.option.collectonly or not any("images" in getattr(item, "fixturenames", ())
                                                    for item in session.items):
        return
    engine_ = _engine_or_error(session.config)
    if isinstance(engine_, Exception):
        return  # the fixtures report it
    proc = _SESSION["build"] = _start_images_build(engine_)
    session.config.add_cleanup(lambda: stop_tree(proc, timeout=10) if proc.poll() is None else None)


@pytest.fixture(scope="session")
def images(docker_engine):
    """The three images of docker/Dockerfile, built for real from the lock's wheels on the
    debootstrapped base (the production base is a build argument)."""
    if "images" not in _SESSION:
        proc = _SESSION.get("build") or _start_images_build(docker_engine)
        _SESSION["images"] = _images_built(proc)
    return _SESSION["images"]
