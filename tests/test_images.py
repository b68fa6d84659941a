"""The images of docker/Dockerfile, built here for real (from the lock's wheels, on the
debootstrapped base) and smoke-tested inside: the student image has the course stack and no
course secrets, the grader image grades, the hub image serves a hub."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import requests

from arena_hub import release
from arena_hub.grading import engine
from arena_hub.grading.docker import DockerBackend, DockerSettings
from arena_hub.images import ImageBuild
from tests.conftest import ARTIFACTS, docker, free_ports
from tests.helpers import REPO, notebook, scores, scratch_course, submit_files

AID = "c0d0-prereqs"
def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


LOCK = {_norm(n): v for n, v in (line.strip().split("==") for line in (REPO / "requirements.lock").read_text()
                                 .splitlines() if "==" in line and not line.startswith("#"))}


def test_build_args_install_only_from_the_wheel_server():
    args = ImageBuild("base:x", "t", "http://127.0.0.1:5/").build_args("student")
    joined = " ".join(args)
    for expected in ("--target student", "--tag arena-hub-student:t", "BASE_IMAGE=base:x", "--network host",
                     "PIP_FIND_LINKS=http://127.0.0.1:5/", "PIP_NO_INDEX=1"):
        assert expected in joined, expected
    assert "--network" not in ImageBuild("base:x").build_args("hub"), "without wheels the build uses the base's network"
    with pytest.raises(ValueError, match="unknown image"):
        ImageBuild().build_args("teacher")


def test_images_record_sizes_and_build_times(images):
    (ARTIFACTS / "images.json").write_text(json.dumps(
        [{"image": b.image, "seconds": round(b.seconds, 1), "gib": round(b.size_bytes / 2**30, 2)}
         for b in images.builds], indent=1))
    for b in images.builds:
        assert b.size_bytes > 0


STACK_CHECK = """
import importlib, importlib.metadata as md, json, os
mods = ["torch", "torchvision", "transformer_lens", "einops", "jaxtyping", "gymnasium", "wandb",
        "accelerate", "deepspeed", "plotly", "sklearn", "nbgrader", "jupyterlab", "jupyterhub", "arena_hub.checks"]
missing = []
for m in mods:
    try:
        importlib.import_module(m)
    except Exception as e:
        missing.append(f"{m}: {e!r}")
print(json.dumps({"uid": os.getuid(), "missing": missing,
                  "versions": {d: md.version(d) for d in ("torch", "torchvision", "transformer_lens", "nbgrader",
                                                          "jupyterlab", "jupyterhub")}}))
"""


def test_student_image_has_the_course_stack_at_the_locked_versions(docker_engine, images):
    out = docker(docker_engine, "run", "--rm", "--network", "none", "-e", "DS_ACCELERATOR=cpu",
                 images.student, "python", "-c", STACK_CHECK).stdout
    info = json.loads(out.strip().splitlines()[-1])
    assert info["uid"] == 1000, "student servers run as uid 1000, not root"
    assert not info["missing"], f"the student image cannot import: {info['missing']}"
    wrong = {d: v for d, v in info["versions"].items() if v != LOCK[_norm(d)]}
    assert not wrong, f"versions differ from requirements.lock: {wrong}"


EXTENSIONS_CHECK = """
from jupyter_server.serverapp import ServerApp
app = ServerApp()
app.load_config_file()  # what a student server loads: the image's JUPYTER_CONFIG_PATH first
print(json.dumps(app.jpserver_extensions))
"""


def test_student_image_offers_only_the_student_side_of_nbgrader(docker_engine, images):
    out = docker(docker_engine, "run", "--rm", "--network", "none", images.student, "python", "-c",
                 "import json" + EXTENSIONS_CHECK).stdout
    server = json.loads(out.strip().splitlines()[-1])
    assert server.get("nbgrader.server_extensions.formgrader") is False, f"formgrader not disabled: {server}"
    lab = docker(docker_engine, "run", "--rm", "--network", "none", images.student, "cat",
                 "/opt/arena-hub/hub_config/student/labconfig/page_config.json").stdout
    disabled = json.loads(lab)["disabledExtensions"]
    assert disabled.get("@jupyter/nbgrader:formgrader") and disabled.get("@jupyter/nbgrader:create-assignment"), lab


def secret_lines() -> list[str]:
    """Every line of a solution, hidden test or mark scheme in source/ that students never see."""
    return sorted(set().union(*(release.solution_lines(day) for day in (REPO / "source").iterdir() if day.is_dir())))


def test_student_image_holds_no_solution_or_hidden_test_text(docker_engine, images, tmp_path):
    secrets = secret_lines()
    (tmp_path / "patterns").mkdir()
    pfile = tmp_path / "patterns" / "p"
    pfile.write_text("\n".join(secrets) + "\n")
    # A few short lines also occur in the libraries themselves (`for group in self.param_groups:`
    # in torch.optim): found in this checkout's venv (the same wheels), they prove nothing.
    public = subprocess.run(["grep", "-rIhoF", "-f", str(pfile), str(Path(sys.prefix) / "lib")],
                            capture_output=True, text=True).stdout
    patterns = [line for line in secrets if line not in set(public.splitlines())]
    assert len(patterns) > 1000, f"only {len(patterns)} lines to look for: the scan would prove little"
    pfile.write_text("\n".join(patterns) + "\n")
    scan = ["--user", "0", "-v", f"{tmp_path / 'patterns'}:/patterns:ro", images.student, "grep", "-rIlF", "-f",
            "/patterns/p"]
    # The scan finds them where they are (the course's source/ mounted into the image)...
    found = docker(docker_engine, "run", "--rm", "--network", "none", "-v", f"{REPO / 'source'}:/srv/leak:ro",
                   *scan, "/srv/leak", check=False)
    assert found.returncode == 0 and "/srv/leak/c0d0-prereqs/c0d0-prereqs.ipynb" in found.stdout, found.stderr
    # ... and nowhere in the image's own file system.
    t0 = time.monotonic()
    proc = docker(docker_engine, "run", "--rm", "--network", "none", *scan, "/", "--exclude-dir=proc",
                  "--exclude-dir=sys", "--exclude-dir=dev", "--exclude-dir=patterns", check=False)
    assert proc.returncode == 1 and not proc.stdout, (
        f"the student image holds solution or hidden-test text in: {proc.stdout[:2000]} {proc.stderr[:500]}")
    names = docker(docker_engine, "run", "--rm", "--network", "none", "--user", "0", images.student, "sh", "-c",
                   "find / -xdev -path '*/site-packages/nbgrader/tests' -prune -o \\( -name 'c[0-9]d[0-9]-*' "
                   "-o -name 'c[0-9]x[0-9]-*' -o -name assignment.toml -o -name gradebook.db \\) -print").stdout
    assert not names.strip(), f"course files in the student image (nbgrader's own test data aside): {names}"
    (ARTIFACTS / "student-image-scan.txt").write_text(
        f"{len(patterns)} solution / hidden-test lines of source/ ({len(secrets) - len(patterns)} more also occur in "
        f"the libraries) looked for in the whole student image: none found ({time.monotonic() - t0:.0f} s)\n")


def test_grader_image_grades_like_the_course_expects(docker_engine, images, tmp_path):
    layout = scratch_course(tmp_path)
    release.build(layout, [AID])
    submit_files(layout, AID, {"reference": notebook(layout, "source", AID),
                               "untouched": notebook(layout, "release", AID)})
    backend = DockerBackend(DockerSettings(image=images.grader), workers=2, env=docker_engine.env)
    out = io.StringIO()
    report = engine.grade(layout, AID, backend=backend, stream=out,
                          limits={"cell_timeout_seconds": 30, "timeout_seconds": 180, "memory_mib": 1500})
    assert not report.failed, [(o.job.student_id, o.reason) for o in report.failed] + [out.getvalue()]
    assert sum(scores(layout, AID, "reference").values()) == 100
    assert sum(scores(layout, AID, "untouched").values()) == 0


def test_hub_image_runs_the_hub_and_has_no_torch(docker_engine, images, tmp_path):
    tools = docker(docker_engine, "run", "--rm", "--network", "none", images.hub, "sh", "-c",
                   "jupyterhub --version && /opt/arena-hub/node_modules/.bin/configurable-http-proxy --version"
                   " && arena-hub --help >/dev/null && python -c 'import dockerspawner, kubespawner, psycopg, "
                   "nbgrader, plotly, arena_hub.spawner' && ! python -c 'import torch' 2>/dev/null && echo OK")
    assert tools.stdout.strip().endswith("OK"), tools.stdout + tools.stderr
    # The hub of the image on loopback (host network: the engine here has no bridge), the course mounted.
    layout = scratch_course(tmp_path)
    names = ("port", "hub", "proxy_api", "formgrader", "dashboard")
    ports = dict(zip(names, free_ports(len(names))))
    name = "arena-hub-hub-smoke"
    docker(docker_engine, "run", "--detach", "--name", name, "--network", "host",
           "-v", f"{layout.course_root}:/srv/course", "-v", f"{layout.data_dir}:/srv/data",
           "-e", "ARENA_HUB_IP=127.0.0.1", images.hub, "arena-hub", "hub", "--port", str(ports["port"]),
           "--hub-port", str(ports["hub"]), "--proxy-api-port", str(ports["proxy_api"]),
           "--formgrader-port", str(ports["formgrader"]), "--dashboard-port", str(ports["dashboard"]))
    try:
        url = f"http://127.0.0.1:{ports['port']}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"{url}/hub/login", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            state = docker(docker_engine, "inspect", "--format", "{{.State.Running}}", name).stdout.strip()
            logs = docker(docker_engine, "logs", name, check=False)
            assert state == "true", f"the hub container stopped:\n{logs.stdout[-3000:]}{logs.stderr[-3000:]}"
            assert time.monotonic() < deadline, f"no hub in the hub image:\n{logs.stderr[-3000:]}"
            time.sleep(1)
        assert requests.get(f"{url}/hub/api", timeout=5).json()["version"] == LOCK["jupyterhub"]
        assert (layout.data_dir / "runtime" / "cohort.json").exists(), "the hub keeps its state in the mounted data dir"
    finally:
        docker(docker_engine, "rm", "--force", name, check=False)
