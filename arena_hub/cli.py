"""``arena-hub``: one command, one subcommand per verb."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

from . import cohort, release
from .course import Layout
from .exchange import ensure_exchange
from .hub import HUB_CONFIG_DIR, HubSettings, node_bin_ok


def _port_free(ip: str, port: int) -> bool:
    with socket.socket() as s:
        # Like the servers themselves: a port in TIME_WAIT after a recent stop is free to reuse.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((ip, port))
        except OSError:
            return False
    return True


def cmd_build(args) -> int:
    layout = Layout.from_env()
    ids = release.build(layout, args.ids or None)
    problems = release.leaks(layout)
    for p in problems:
        print(f"LEAK: {p}", file=sys.stderr)
    print(f"built release/ for {', '.join(ids)}")
    return 1 if problems else 0


def cmd_check(args) -> int:
    layout = Layout.from_env()
    problems = release.leaks(layout) + release.stale(layout)
    for p in problems:
        print(p, file=sys.stderr)
    if not problems:
        print("release/ is fresh and leaks nothing")
    return 1 if problems else 0


def cmd_grade(args) -> int:
    from .grading import engine

    layout = Layout.from_env()
    backend = None
    if args.backend == "docker":
        from .gpus import parse_ids
        from .grading.docker import DockerBackend, DockerSettings

        backend = DockerBackend(DockerSettings(image=args.image, gpu_ids=parse_ids(args.gpu_ids)),
                                workers=args.workers)
    try:
        report = engine.grade(layout, args.assignment_id, args.student or None,
                              workers=args.workers, force=args.force, backend=backend)
    except ValueError as e:
        print(f"arena-hub grade: {e}", file=sys.stderr)
        return 2
    print(f"graded {len(report.graded)}, failed {len(report.failed)}, "
          f"skipped {len(report.skipped)} (already graded; --force regrades)")
    return 0


def cmd_hub(args) -> int:
    env = os.environ
    for name, value in (("ARENA_HUB_IP", args.ip), ("ARENA_HUB_PORT", args.port),
                        ("ARENA_HUB_HUB_PORT", args.hub_port),
                        ("ARENA_HUB_PROXY_API_PORT", args.proxy_api_port),
                        ("ARENA_HUB_FORMGRADER_PORT", args.formgrader_port),
                        ("ARENA_HUB_DASHBOARD_PORT", args.dashboard_port),
                        ("ARENA_HUB_DATA_DIR", args.data_dir)):
        if value is not None:
            env[name] = str(value)
    # Servers, kernels and nbgrader (which runs `alembic`) find this venv's programs first.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    settings = HubSettings()
    if not node_bin_ok(settings):
        print(f"arena-hub: configurable-http-proxy not found in {settings.node_bin}; run bin/setup "
              "(npm ci) first.", file=sys.stderr)
        return 2
    busy = [f"{settings.ip}:{p}" if p == settings.port else f"127.0.0.1:{p}"
            for p in (settings.port, settings.hub_port, settings.proxy_api_port,
                      settings.formgrader_port, settings.dashboard_port)
            if not _port_free(settings.ip if p == settings.port else "127.0.0.1", p)]
    if busy:
        print(f"arena-hub: cannot start: {', '.join(busy)} already in use (is another hub "
              "running?). Stop it or choose other ports (--port, --hub-port, --proxy-api-port, "
              "--formgrader-port, --dashboard-port).", file=sys.stderr)
        return 2
    layout = settings.layout
    layout.runtime.mkdir(parents=True, exist_ok=True)
    ensure_exchange(layout)
    passwords = cohort.create_demo(settings.cohort_file)
    if passwords:
        print("Demo cohort created. These passwords are shown once and stored only as hashes:")
        users = cohort.load(settings.cohort_file)
        for name, password in passwords.items():
            print(f"  {users[name]['role']:<10} {name:<10} {password}")
    cohort.sync_gradebook(cohort.load(settings.cohort_file), layout.gradebook_url)
    print(f"ARENA Hub on http://{settings.ip}:{settings.port}/  (Ctrl-C stops it)", flush=True)
    jupyterhub = str(Path(sys.executable).parent / "jupyterhub")
    os.execv(jupyterhub, [jupyterhub, "-f", str(args.config or HUB_CONFIG_DIR / "jupyterhub_config.py"),
                          *args.jupyterhub_args])


def cmd_images(args) -> int:
    from . import images

    wheelhouse = None if args.index else Path(args.wheelhouse or images.default_wheelhouse())
    try:
        results = images.build(args.targets or images.TARGETS, base_image=args.base, tag=args.tag,
                               wheelhouse=wheelhouse)
    except (RuntimeError, ValueError) as e:
        print(f"arena-hub images: {e}", file=sys.stderr)
        return 1
    for r in results:
        print(f"{r.image}  {r.size_bytes / 2**30:.2f} GiB  built in {r.seconds:.0f} s")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="arena-hub", description=__doc__)
    sub = parser.add_subparsers(dest="verb", required=True)

    p = sub.add_parser("build", help="generate release/ from source/ (nbgrader) and check it")
    p.add_argument("ids", nargs="*", help="assignment ids (default: all)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("check", help="fail if release/ is stale or leaks solutions/hidden tests")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("grade", help="autograde collected submissions in parallel, sandboxed")
    p.add_argument("assignment_id")
    p.add_argument("--student", action="append", help="grade only this student (repeatable)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="parallel runs")
    p.add_argument("--force", action="store_true", help="regrade submissions already graded")
    p.add_argument("--backend", choices=["local", "docker"], default="local",
                   help="where runs happen (kubernetes: from the hub's config, see helm/)")
    p.add_argument("--image", default="arena-hub-grader:latest", help="grader image (docker backend)")
    p.add_argument("--gpu-ids", help="GPUs the docker backend may give grading runs, e.g. 0,1 (for days "
                   "whose assignment.toml asks [grading] gpus > 0; each run gets its own)")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("hub", help="start the embedded hub (creates the demo cohort once)")
    p.add_argument("--ip", help="public address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="public port (default 8000)")
    p.add_argument("--hub-port", type=int, help="hub API port (default 8081)")
    p.add_argument("--proxy-api-port", type=int, help="proxy API port (default 8001)")
    p.add_argument("--formgrader-port", type=int, help="formgrader service port (default 8002)")
    p.add_argument("--dashboard-port", type=int, help="dashboard service port (default 8003)")
    p.add_argument("--data-dir", help="runtime state directory (default: the course root)")
    p.add_argument("--config", help="JupyterHub config file: a profile of hub_config/ (default "
                   "hub_config/jupyterhub_config.py; one GPU server: hub_config/one_gpu_server.py)")
    p.add_argument("jupyterhub_args", nargs="*", help="extra jupyterhub arguments (after --)")
    p.set_defaults(func=cmd_hub)

    p = sub.add_parser("images", help="build the student, grader and hub images (docker/Dockerfile)")
    p.add_argument("targets", nargs="*", help="images to build: student, grader, hub (default: all three)")
    p.add_argument("--base", default="debian:bookworm-slim",
                   help="base image (must provide or apt-get CPython 3.11; see docker/README.md)")
    p.add_argument("--tag", default="latest", help="tag of arena-hub-<target>")
    p.add_argument("--wheelhouse", help="folder of wheels, collected from requirements.lock "
                   "(default $ARENA_HUB_WHEELHOUSE or ~/.cache/arena-hub/wheelhouse)")
    p.add_argument("--index", action="store_true",
                   help="no wheelhouse: pip in the build reaches the package index itself")
    p.set_defaults(func=cmd_images)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
