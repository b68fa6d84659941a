"""The people on the hub: the cohort file, password hashes, and the hub authenticator.

The embedded default ships a demo cohort (one instructor, three students). Passwords are made
at first start, printed once, and only their salted hashes are stored (``runtime/cohort.json``).
Production deployments use an OAuth or other real authenticator instead (see README).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from jupyterhub.auth import Authenticator
from traitlets import Unicode

from .course import COURSE_ID

INSTRUCTOR, STUDENT = "instructor", "student"
DEMO_COHORT = {"instructor": INSTRUCTOR, "alice": STUDENT, "bob": STUDENT, "carol": STUDENT}

#: nbgrader's JupyterHub groups: graders and students of a course.
GRADERS_GROUP = f"formgrade-{COURSE_ID}"
STUDENTS_GROUP = f"nbgrader-{COURSE_ID}"

_ITERATIONS = 200_000


def hash_password(password: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), _ITERATIONS)
    return f"pbkdf2_sha256${_ITERATIONS}${salt}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, expected = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), int(iterations))
    return hmac.compare_digest(digest.hex(), expected)


def load(path: Path) -> dict:
    """``{name: {"role": ..., "password": <hash>}}``; empty when the file does not exist."""
    path = Path(path)
    if not path.exists():
        return {}
    return json.loads(path.read_text())["users"]


def create_demo(path: Path) -> dict[str, str] | None:
    """Write a demo cohort with fresh passwords; return ``{name: password}`` (the only copy).

    Returns None and changes nothing when the cohort file already exists.
    """
    path = Path(path)
    if path.exists():
        return None
    passwords = {name: secrets.token_urlsafe(12) for name in DEMO_COHORT}
    users = {
        name: {"role": role, "password": hash_password(passwords[name])}
        for name, role in DEMO_COHORT.items()
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        json.dump({"users": users}, f, indent=1)
    tmp.replace(path)
    return passwords


def members(users: dict, role: str) -> list[str]:
    return sorted(name for name, info in users.items() if info["role"] == role)


class CohortAuthenticator(Authenticator):
    """Username + password login against the cohort file (salted PBKDF2 hashes)."""

    cohort_file = Unicode(
        help="Path of the cohort file (JSON: users -> role and password hash).",
    ).tag(config=True)

    def _users(self) -> dict:
        return load(Path(self.cohort_file))

    async def authenticate(self, handler, data):
        username = self.normalize_username(data.get("username", ""))
        user = self._users().get(username)
        if user and verify_password(data.get("password", ""), user["password"]):
            return username
        self.log.warning("Failed login for %r", username)
        return None

    def check_allowed(self, username, authentication=None):
        return username in self._users()


def sync_gradebook(users: dict, db_url: str) -> None:
    """Register the cohort's students in the nbgrader gradebook, so the formgrader lists them
    (with their hub names) before they submit anything."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url, COURSE_ID) as gb:
        for name in members(users, STUDENT):
            gb.update_or_create_student(name, first_name=name, last_name="")
