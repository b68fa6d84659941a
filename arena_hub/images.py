"""Build the student, grader and hub images (``docker/Dockerfile``) from a wheelhouse.

Python packages install from wheels: ``pip wheel`` collects the lock's wheels (building the one
sdist, deepspeed, against the installed torch), and the build reads them from a web server on
loopback (``docker build --network host``), so nothing of the wheelhouse ends up in a layer and
the build needs no index. Without a wheelhouse (``--index``) the build uses the base's network
and PyPI instead.
"""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .hub import INSTALL_ROOT

TARGETS = ("student", "grader", "hub")
DOCKERFILE = INSTALL_ROOT / "docker" / "Dockerfile"
LOCK = INSTALL_ROOT / "requirements.lock"
WHEEL_PORT = 38471


def image_name(target: str, tag: str = "latest") -> str:
    return f"arena-hub-{target}:{tag}"


def build_wheelhouse(dest: Path, pip: str | None = None, stream=sys.stderr) -> Path:
    """Wheels of every package in requirements.lock, in ``dest`` (kept: a second call is quick)."""
    dest.mkdir(parents=True, exist_ok=True)
    pip = pip or str(Path(sys.executable).parent / "pip")
    stamp = dest / ".lock-sha"
    want = _sha(LOCK)
    if stamp.exists() and stamp.read_text() == want:
        return dest
    print(f"images: collecting wheels into {dest}", file=stream, flush=True)
    # pip freeze leaves setuptools out of the lock, but torch requires it: take this venv's.
    setuptools = subprocess.run([str(Path(pip).parent / "python"), "-c", "import importlib.metadata as m; "
                                 "print(m.version('setuptools'))"], capture_output=True, text=True, check=True)
    subprocess.run([pip, "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--disable-pip-version-check",
                    "-r", str(LOCK), f"setuptools=={setuptools.stdout.strip()}", "-w", str(dest)], check=True)
    stamp.write_text(want)
    return dest


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve_wheels(directory: Path):
    """A read-only web server of ``directory`` on loopback; yields its URL."""
    handler = functools.partial(_Quiet, directory=str(directory))
    try:
        # The URL is a build argument, part of Docker's layer cache key: keep it the same each time.
        server = ThreadingHTTPServer(("127.0.0.1", WHEEL_PORT), handler)
    except OSError:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class BuildResult:
    target: str
    image: str
    seconds: float
    size_bytes: int


@dataclass
class ImageBuild:
    """What to build and how; ``build_args`` is pure (unit-tested)."""

    base_image: str = "debian:bookworm-slim"
    tag: str = "latest"
    wheels_url: str | None = None  # None: packages from the index the base can reach
    env: dict | None = None  # environment of the docker CLI (DOCKER_HOST)
    docker: str = "docker"
    context: Path = field(default_factory=lambda: INSTALL_ROOT)

    def build_args(self, target: str) -> list[str]:
        if target not in TARGETS:
            raise ValueError(f"unknown image {target!r}: choose from {', '.join(TARGETS)}")
        args = ["build", "--force-rm", "--file", str(DOCKERFILE), "--target", target, "--tag", image_name(target, self.tag),
                "--build-arg", f"BASE_IMAGE={self.base_image}"]
        if self.wheels_url:
            # The wheel server listens on the host's loopback only.
            args += ["--network", "host", "--build-arg", f"PIP_FIND_LINKS={self.wheels_url}",
                     "--build-arg", "PIP_NO_INDEX=1"]
        return args + [str(self.context)]

    def run(self, targets=TARGETS, stream=sys.stderr) -> list[BuildResult]:
        results = []
        for target in targets:
            start = time.monotonic()
            print(f"images: building {image_name(target, self.tag)} on {self.base_image}", file=stream, flush=True)
            proc = subprocess.run([self.docker, *self.build_args(target)], env=self.env, capture_output=True,
                                  text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"building the {target} image failed:\n{proc.stdout[-4000:]}{proc.stderr[-4000:]}")
            size = subprocess.run([self.docker, "image", "inspect", "--format", "{{.Size}}", image_name(target, self.tag)],
                                  env=self.env, capture_output=True, text=True, check=True).stdout.strip()
            results.append(BuildResult(target, image_name(target, self.tag), time.monotonic() - start, int(size)))
            print(f"images: {results[-1].image} {int(size) / 2**30:.2f} GiB in {results[-1].seconds:.0f} s",
                  file=stream, flush=True)
        return results


def build(targets=TARGETS, *, base_image: str, tag: str = "latest", wheelhouse: Path | None = None,
          env: dict | None = None, stream=sys.stderr) -> list[BuildResult]:
    """Build the images; with a wheelhouse folder, install only from its wheels."""
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        raise ValueError(f"unknown image(s) {', '.join(unknown)}: choose from {', '.join(TARGETS)}")
    if wheelhouse is None:
        return ImageBuild(base_image, tag, None, env).run(targets, stream)
    build_wheelhouse(wheelhouse, stream=stream)
    with serve_wheels(wheelhouse) as url:
        return ImageBuild(base_image, tag, url, env).run(targets, stream)


def default_wheelhouse() -> Path:
    return Path(os.environ.get("ARENA_HUB_WHEELHOUSE") or Path.home() / ".cache" / "arena-hub" / "wheelhouse")
