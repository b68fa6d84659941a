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
    layout.exchange.chmod(0o755)
    course.chmod(0o755)
    return layout.exchange
