"""The demo cohort: passwords made once, stored as salted hashes, checked by the authenticator."""

from __future__ import annotations

import asyncio
import json

from arena_hub import cohort


def test_demo_cohort_is_created_once_with_hashed_passwords(tmp_path):
    path = tmp_path / "cohort.json"
    passwords = cohort.create_demo(path)
    assert set(passwords) == {"instructor", "alice", "bob", "carol"}
    assert len(set(passwords.values())) == 4 and all(len(p) >= 16 for p in passwords.values())
    stored = path.read_text()
    assert not any(p in stored for p in passwords.values()), "plain passwords must not be stored"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert cohort.create_demo(path) is None, "a second start must not reset passwords"
    users = json.loads(stored)["users"]
    assert cohort.members(users, cohort.INSTRUCTOR) == ["instructor"]
    assert cohort.members(users, cohort.STUDENT) == ["alice", "bob", "carol"]


def test_passwords_verify_and_salts_differ():
    a, b = cohort.hash_password("secret"), cohort.hash_password("secret")
    assert a != b
    assert cohort.verify_password("secret", a) and not cohort.verify_password("Secret", a)
    assert not cohort.verify_password("secret", "garbage")


def test_authenticator(tmp_path):
    path = tmp_path / "cohort.json"
    passwords = cohort.create_demo(path)
    auth = cohort.CohortAuthenticator(cohort_file=str(path))
    login = lambda u, p: asyncio.run(auth.authenticate(None, {"username": u, "password": p}))  # noqa: E731
    assert login("alice", passwords["alice"]) == "alice"
    assert login("alice", passwords["bob"]) is None
    assert login("mallory", "x") is None
    assert auth.check_allowed("bob") and not auth.check_allowed("mallory")
