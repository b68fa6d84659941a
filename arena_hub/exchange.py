"""The exchange as students see it: who they are, and where the exchange lives.

nbgrader files a submission under the OS user of the process (``pwd.getpwuid(os.getuid())``).
Under the embedded hub every student server runs as one OS user, and in containers every user
is uid 1000, so that name says nothing. The hub tells each server who its user is in
``JUPYTERHUB_USER``; we hand that to nbgrader through its own seam, ``CourseDirectory.student_id``,
which its exchange (submit, fetch_feedback, list) already honours as an explicit student id.
"""

from __future__ import annotations

import os
from pathlib import Path

from .course import COURSE_ID, Layout


class IdentityError(RuntimeError):
    pass


def hub_student_id(env=None) -> str:
    """The student's id as the hub knows it (``JUPYTERHUB_USER``), checked for nbgrader."""
    env = os.environ if env is None else env
    name = env.get("JUPYTERHUB_USER", "").strip()
    if not name:
        raise IdentityError(
            "JUPYTERHUB_USER is not set: the course exchange needs to know which hub user this "
            "server belongs to. Start the server from the hub."
        )
    # '+' separates fields of exchange file names and '*' is a glob there.
    bad = set(name) & set("+*/")
    if bad:
        raise IdentityError(
            f"hub user name {name!r} contains {''.join(sorted(bad))!r}, which nbgrader's exchange "
            "cannot file; rename the user"
        )
    return name


def configure_student(c, layout: Layout | None = None, env=None) -> None:
    """nbgrader config of a student server: the course, the exchange, and the hub identity."""
    layout = layout or Layout.from_env(env)
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.student_id = hub_student_id(env)
    c.Exchange.root = str(layout.exchange)
    c.Exchange.path_includes_course = False
    c.ExchangeFactory.submit = "arena_hub.exchange.CheckedSubmit"


def ensure_exchange(layout: Layout) -> Path:
    """Create the exchange tree nbgrader expects, with its documented modes.

    ``inbound/`` is writable but not listable, so that students cannot browse each other's
    submissions by name when each has an OS user of their own (not under the embedded default,
    see README).
    """
    course = layout.exchange / COURSE_ID
    for sub, mode in (("outbound", 0o755), ("inbound", 0o733), ("feedback", 0o711)):
        path = course / sub
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(mode)
    # nbgrader itself resets the exchange root to 0o777 on release; start it that way.
    layout.exchange.chmod(0o777)
    course.chmod(0o755)
    return layout.exchange


# ----------------------------------------------------------------------------------------------
# Submission checks (nbgrader's ExchangeFactory.submit seam)

def _graded_ids(nb) -> set[str]:
    return {
        c.metadata["nbgrader"]["grade_id"]
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade_id")
        and any(c.metadata["nbgrader"].get(k) for k in ("grade", "solution", "locked", "task"))
    }


def submission_problems(submission_dir: Path, release_dir: Path) -> list[str]:
    """What would make this submission ungradable, in words a student can act on."""
    import nbformat

    problems = []
    for released in sorted(Path(release_dir).glob("*.ipynb")):
        mine = Path(submission_dir) / released.name
        if not mine.exists():
            problems.append(f"{released.name} is missing from your assignment folder")
            continue
        try:
            nb = nbformat.read(mine, as_version=4)
        except Exception as e:  # nbformat raises several kinds; all mean "not a notebook"
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            problems.append(f"{released.name} is not a valid notebook ({first}); "
                            "open it in JupyterLab and save it again, or fetch a fresh copy")
            continue
        missing = _graded_ids(nbformat.read(released, as_version=4)) - _graded_ids(nb)
        if missing:
            problems.append(
                f"{released.name}: the graded cell(s) {', '.join(sorted(missing))} were deleted or "
                "lost their grading metadata; copy them back from a freshly fetched notebook"
            )
    return problems


from nbgrader.exchange.default.submit import ExchangeSubmit  # noqa: E402


class CheckedSubmit(ExchangeSubmit):
    """nbgrader's submit, refusing notebooks that could not be graded.

    The check runs before anything is copied, so a refused submission changes nothing: the
    student's files and earlier submissions stay as they were.
    """

    def copy_files(self):
        self.init_release()
        problems = submission_problems(Path(self.src_path), Path(self.release_path))
        if problems:
            self.fail("Submission refused, nothing was submitted:\n- " + "\n- ".join(problems))
        super().copy_files()
