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


# ----------------------------------------------------------------------------------------------
# Per-student exchange folders (containers: nbgrader's ExchangeFactory collect / release_feedback)
#
# In containers every student runs as uid 1000, so file modes cannot keep students apart; the
# mounts do. A student's server mounts ``outbound/`` read-only, ``inbound/<name>`` as its
# ``inbound/`` and ``feedback/<name>`` as its ``feedback/`` (Helm subPaths, DockerSpawner
# volumes). Student-side nbgrader is unchanged; the instructor side reads and writes those
# per-student folders through the two plugins below.

import glob  # noqa: E402

from nbgrader.exchange.default.collect import ExchangeCollect, groupby  # noqa: E402
from nbgrader.exchange.default.release_feedback import ExchangeReleaseFeedback  # noqa: E402
from nbgrader.utils import notebook_hash  # noqa: E402

PER_STUDENT_ENV = "ARENA_HUB_EXCHANGE_PER_STUDENT"


class PerStudentCollect(ExchangeCollect):
    """nbgrader's collect, reading ``inbound/<student>/`` folders as well as ``inbound/``.

    A file whose name claims another student than its folder's is ignored (a student can write
    only into their own folder, but can name a file anything).
    """

    def init_src(self):
        super().init_src()
        student, aid = self.coursedir.student_id or "*", self.coursedir.assignment_id
        nested = []
        for path in glob.glob(os.path.join(self.inbound_path, student, f"{student}+{aid}+*")):
            folder = os.path.basename(os.path.dirname(path))
            record = self._path_to_record(path)
            if record["username"] != folder:
                self.log.warning("ignored %s: it is in %s's folder but names %s", path, folder,
                                 record["username"])
                continue
            record["filename"] = os.path.join(folder, record["filename"])
            nested.append(record)
        if nested:
            self.src_records = self._choose([*self.src_records, *nested])

    def _choose(self, records):
        """One record per student, by nbgrader's own rule (the latest, or with
        ``--before-duedate`` the latest before the due date if there is one)."""
        chosen = []
        for recs in groupby(records, lambda r: r["username"]).values():
            recs = self._sort_by_timestamp(recs)
            if self.duedate is not None and self.before_duedate:
                recs = [r for r in recs if r["timestamp"] <= self.duedate] or recs
            chosen.append(recs[0])
        return chosen


class PerStudentReleaseFeedback(ExchangeReleaseFeedback):
    """nbgrader's release_feedback, then each released file moved into ``feedback/<student>/``,
    the only feedback folder that student's server mounts."""

    def copy_files(self):
        super().copy_files()
        for html in glob.glob(os.path.join(self.src_path, "*.html")):
            folder, name = os.path.split(html)  # <feedback>/<student>/<assignment>/<notebook>.html
            student = os.path.basename(os.path.dirname(folder))
            with open(os.path.join(folder, "submission_secret.txt")) as f:
                checksum = notebook_hash(secret=f.read(), notebook_id=name[:-len(".html")])
            released = os.path.join(self.dest_path, f"{checksum}.html")
            if os.path.exists(released):  # not for excluded students
                target = os.path.join(self.dest_path, student)
                os.makedirs(target, mode=0o755, exist_ok=True)
                os.replace(released, os.path.join(target, f"{checksum}.html"))


def configure_per_student(c, env=None) -> None:
    """Instructor side of a container deployment (``ARENA_HUB_EXCHANGE_PER_STUDENT=1``)."""
    env = os.environ if env is None else env
    if env.get(PER_STUDENT_ENV) == "1":
        c.ExchangeFactory.collect = "arena_hub.exchange.PerStudentCollect"
        c.ExchangeFactory.release_feedback = "arena_hub.exchange.PerStudentReleaseFeedback"
        c.CollectApp.check_owner = False  # every container writes as uid 1000
