"""What runs inside a job's sandbox: nbgrader's own Autograde on one submission, unchanged.

The work directory is a private nbgrader course: ``submitted/<student>/<id>/`` (a copy of the
submission), ``source/<id>/`` (only the released, public non-notebook files, which autograde
copies next to the notebook), ``gradebook.db`` (the template: the assignment, no students) and
``jupyter/`` (a kernelspec that starts the kernel under the job's kernel uid).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import warnings
from pathlib import Path

from nbgrader.preprocessors import NbGraderPreprocessor as Preprocessor  # enabled by default
from traitlets import Integer
from traitlets.config import Config

from ..course import COURSE_ID
from .job import GradingJob


class GrantKernelWrite(Preprocessor):
    """Let the kernel (its own uid) write in the notebook's folder, as it may when students run it."""

    kernel_uid = Integer(-1, help="uid of the student's kernel; -1: same as nbgrader").tag(config=True)

    def preprocess(self, nb, resources):
        path = resources.get("metadata", {}).get("path")
        if path and self.kernel_uid >= 0:
            os.chown(path, self.kernel_uid, self.kernel_uid)
        return nb, resources


def prepare(work: Path, job: GradingJob, submission: Path, release_dir: Path, template_db: Path,
            kernel_uid: int | None) -> None:
    """Lay out the private course in ``work`` (done by the engine, before the sandbox starts)."""
    course = work / "course"
    sub = course / "submitted" / job.student_id / job.assignment_id
    shutil.copytree(submission, sub, symlinks=True)
    src = course / "source" / job.assignment_id
    src.mkdir(parents=True)
    for f in release_dir.iterdir():
        if f.is_file() and f.suffix != ".ipynb":
            shutil.copy(f, src / f.name)
    shutil.copy(template_db, course / "gradebook.db")
    (course / "gradebook.db").chmod(0o600)
    home = work / "home"
    (home / "tmp").mkdir(parents=True)
    (home / ".ipython").mkdir()
    spec = work / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    if kernel_uid is not None:
        argv = [sys.executable, "-m", "arena_hub.grading.kernel", str(kernel_uid), "-f",
                "{connection_file}"]
        for p in (home, home / "tmp", home / ".ipython"):
            os.chown(p, kernel_uid, kernel_uid)
    (spec / "kernel.json").write_text(json.dumps(
        {"argv": argv, "display_name": "Python 3 (grading)", "language": "python"}))
    (work / "job.json").write_text(job.to_json())
    work.chmod(0o711)  # the kernel may traverse to its home, not list or read the rest


def environment(work: Path, job: GradingJob, launcher: str = "fork") -> dict:
    """The whole environment of the run: nothing of the grader's own leaks in."""
    home = work / "home"
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "TMPDIR": str(home / "tmp"),
        "USER": "student",
        "LOGNAME": "student",
        "LANG": "C.UTF-8",
        "JUPYTER_PATH": str(work / "jupyter"),
        "JUPYTER_RUNTIME_DIR": str(work / "runtime"),
        "JUPYTER_CONFIG_DIR": str(work / "config"),
        "IPYTHONDIR": str(home / ".ipython"),
        "MPLCONFIGDIR": str(home / ".matplotlib"),
        "MPLBACKEND": "Agg",
        "ARENA_HUB_SIZE": "fast",
        "ARENA_HUB_DATA": "offline",
        "OMP_NUM_THREADS": "1",
        "ARENA_HUB_WORLD_SIZE": str(job.world_size),
        "ARENA_HUB_LAUNCHER": launcher,  # arena_hub.distributed: fork or torchrun
        "MKL_NUM_THREADS": "1",
        "WANDB_MODE": "offline",
        "HF_HUB_OFFLINE": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def preload() -> None:
    """Import what a run needs (about 3 s) in the parent, so forked runs start warm."""
    import jupyter_client.provisioning  # noqa: F401
    import nbclient  # noqa: F401
    import nbconvert.exporters  # noqa: F401
    import torch  # noqa: F401 -- the judge compares tensors in the grader
    from nbgrader.converters import Autograde  # noqa: F401
    from nbgrader.coursedir import CourseDirectory  # noqa: F401

    from . import judge  # noqa: F401


def autograde(work: Path, job: GradingJob, kernel_uid: int | None) -> int:
    """Run nbgrader's Autograde for the job's student in the private course; 0 on success."""
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.converters import Autograde
    from nbgrader.converters.base import NbGraderException

    logging.basicConfig(level=logging.INFO, format="[%(levelname)s] %(message)s", stream=sys.stderr,
                        force=True)  # the forked child may inherit handlers (pytest)
    warnings.simplefilter("ignore")  # SQLAlchemy/IPython notes; errors are logged, not warned
    course = work / "course"
    c = Config()
    c.CourseDirectory.root = str(course)
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
    c.CourseDirectory.assignment_id = job.assignment_id
    c.CourseDirectory.student_id = job.student_id
    c.Execute.timeout = job.cell_timeout_seconds
    c.GrantKernelWrite.kernel_uid = -1 if kernel_uid is None else kernel_uid
    from nbgrader.preprocessors import Execute

    from .judge import JudgedExecute

    defaults = Autograde.class_traits()["autograde_preprocessors"].default()
    defaults = [JudgedExecute if pp is Execute else pp for pp in defaults]
    c.Autograde.autograde_preprocessors = [GrantKernelWrite, *defaults]
    coursedir = CourseDirectory(config=c)
    converter = Autograde(coursedir=coursedir, config=c)
    converter.force = True
    try:
        converter.start()
    except NbGraderException:
        return 1
    return 0
