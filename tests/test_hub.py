"""The whole course loop on a real hub: release, fetch, submit, collect, autograde, feedback.

Starts `arena-hub hub` (jupyterhub + configurable-http-proxy + the formgrader service) on free
loopback ports in a scratch copy of the course; students and the instructor act over HTTP.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import time
from html import unescape
from pathlib import Path

import nbformat
import pytest

from arena_hub import release
from tests.conftest import ARTIFACTS

pytestmark = pytest.mark.hub

AID = "c0d0-prereqs"
FORM = "/services/arena/formgrader/api"
NB_PATH = f"{AID}/{AID}.ipynb"


def formgrader(hub, method, path, **kw):
    r = hub.api("instructor", method, f"{FORM}{path}", **kw)
    assert r.status_code == 200, f"{method} {path}: {r.status_code} {r.text[:500]}"
    body = r.json()
    if isinstance(body, dict) and "success" in body:
        assert body["success"], f"{method} {path}: {body}"
    return body


def student_action(hub, user, action):
    r = hub.api(user, "POST", f"/user/{user}/assignments/{action}",
                data={"assignment_id": AID, "course_id": "arena"})
    assert r.status_code == 200, f"{user} {action}: {r.status_code} {r.text[:500]}"
    return r.json()


def read_nb(hub, user) -> nbformat.NotebookNode:
    r = hub.api(user, "GET", f"/user/{user}/api/contents/{NB_PATH}")
    assert r.status_code == 200, r.text
    return nbformat.from_dict(r.json()["content"])


def write(hub, user, path, content, kind="notebook"):
    body = {"type": kind, "format": "text" if kind == "file" else "json", "content": content}
    r = hub.api(user, "PUT", f"/user/{user}/api/contents/{path}", json=body)
    assert r.status_code in (200, 201), r.text


def with_solutions(released: nbformat.NotebookNode, source: nbformat.NotebookNode):
    """The student's notebook with every solution cell answered as in the reference."""
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    nb = nbformat.from_dict(released)
    for c in nb.cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            c.source = answers[gid]
    return nb


def test_wrong_password_is_refused(hub):
    s = hub.login("alice", "not-her-password")
    assert s.login_status == 403
    r = s.get(f"{hub.url}/hub/home", allow_redirects=False)
    assert r.status_code == 302 and "/hub/login" in r.headers["Location"]


def test_student_cannot_open_formgrader(hub):
    assert hub.api("alice", "GET", "/services/arena/formgrader/").status_code == 403
    assert hub.api("alice", "GET", f"{FORM}/assignments").status_code == 403
    assert hub.api("instructor", "GET", f"{FORM}/assignments").status_code == 200


def test_second_hub_on_a_used_port_fails_clearly(hub, tmp_path):
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "arena-hub"), "hub", "--data-dir", str(tmp_path),
         "--port", str(hub.ports["port"])],
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert f"127.0.0.1:{hub.ports['port']} already in use" in proc.stderr
    assert not (tmp_path / "runtime" / "cohort.json").exists(), "a refused start must write nothing"


def test_course_loop(hub):
    layout = hub.layout
    source = nbformat.read(layout.source / AID / f"{AID}.ipynb", as_version=4)

    # The instructor generates and releases day 0.0 from the formgrader.
    formgrader(hub, "POST", f"/assignment/{AID}/assign")
    formgrader(hub, "POST", f"/assignment/{AID}/release")

    # Two students log in, start their servers and fetch through the assignment-list API.
    spawn = {user: hub.start_server(user) for user in ("alice", "bob")}
    (ARTIFACTS / "spawn-seconds.json").write_text(json.dumps(spawn))
    for user in ("alice", "bob"):
        listed = hub.api(user, "GET", f"/user/{user}/assignments",
                         params={"course_id": "arena"}).json()
        assert [(a["assignment_id"], a["status"]) for a in listed["value"]] == [(AID, "released")]
        after = student_action(hub, user, "fetch")
        assert [a["status"] for a in after["value"]] == ["fetched"]
    released = read_nb(hub, "bob")

    # Bad input loses nothing: a malformed notebook and one with a deleted test cell are refused.
    write(hub, "bob", NB_PATH, "{ this is not a notebook", kind="file")
    refused = student_action(hub, "bob", "submit")
    assert not refused["success"] and "is not a valid notebook" in refused["value"]
    broken = nbformat.from_dict(released)
    broken.cells = [c for c in broken.cells
                    if c.metadata.get("nbgrader", {}).get("grade_id") != "test_rearrange_1"]
    write(hub, "bob", NB_PATH, broken)
    refused = student_action(hub, "bob", "submit")
    assert not refused["success"] and "test_rearrange_1 were deleted" in refused["value"]
    assert not list((layout.exchange / "arena" / "inbound").glob("bob+*")), "refusals must file nothing"
    assert [c.source for c in read_nb(hub, "bob").cells] == [c.source for c in broken.cells], \
        "the student's notebook must be untouched"

    # bob submits the untouched notebook; alice submits twice, the second time her solutions.
    write(hub, "bob", NB_PATH, released)
    assert student_action(hub, "bob", "submit")["success"] is not False
    assert student_action(hub, "alice", "submit")["success"] is not False
    time.sleep(1.1)  # submissions are told apart by timestamp
    write(hub, "alice", NB_PATH, with_solutions(released, source))
    assert student_action(hub, "alice", "submit")["success"] is not False
    inbound = sorted(p.name.split("+")[0] for p in (layout.exchange / "arena" / "inbound").iterdir())
    assert inbound == ["alice", "alice", "bob"], "every submission is kept in the exchange"

    # The instructor collects, autogrades, generates and releases feedback.
    formgrader(hub, "POST", f"/assignment/{AID}/collect")
    assert sorted(p.name for p in (layout.data_dir / "submitted").iterdir()) == ["alice", "bob"]
    for user in ("alice", "bob"):
        formgrader(hub, "POST", f"/submission/{AID}/{user}/autograde")
    formgrader(hub, "POST", f"/assignment/{AID}/generate_feedback")
    formgrader(hub, "POST", f"/assignment/{AID}/release_feedback")

    subs = {s["student"]: s for s in formgrader(hub, "GET", f"/submissions/{AID}")}
    assert (subs["alice"]["score"], subs["alice"]["max_score"]) == (100, 100)
    assert (subs["bob"]["score"], subs["bob"]["max_score"]) == (0, 100)

    # Each student fetches feedback, and gets only their own.
    for user, score in (("alice", 100), ("bob", 0)):
        student_action(hub, user, "fetch_feedback")
        r = hub.api(user, "GET", f"/user/{user}/api/contents/{AID}/feedback")
        assert r.status_code == 200, f"{user} has no feedback folder: {r.text}"
        stamps = [e["path"] for e in r.json()["content"]]
        assert len(stamps) == 1, f"{user} should get feedback for the one graded submission: {stamps}"
        html = hub.api(user, "GET", f"/user/{user}/api/contents/{stamps[0]}/{AID}.html").json()["content"]
        (ARTIFACTS / f"feedback-{user}.html").write_text(html)
        assert f"(Score: {float(score)} / 100.0)" in html, f"{user}'s feedback does not show score {score}"
        shown = {ln.strip() for ln in unescape(re.sub(r"<[^>]+>", "", html)).splitlines()}
        leaked = release.solution_lines(layout.source / AID, ("HIDDEN TESTS",)) & shown
        assert not leaked, f"{user}'s feedback shows hidden tests: {sorted(leaked)[:3]}"


# ----------------------------------------------------------------------------------------------
# In a real browser: Playwright driving Debian's chromium (never a downloaded browser).
# These run after test_course_loop (pytest keeps a module's order): the formgrader check looks
# at the submissions that loop made.

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def browser_login(browser, hub, user):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(90_000)
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", hub.passwords[user])
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{user}/**")  # logged in: the hub sends the user to their server
    return page


@pytest.mark.browser
def test_browser_student_fetches_from_assignment_list(hub, browser):
    t0 = time.monotonic()
    page = browser_login(browser, hub, "carol")
    page.wait_for_selector(".jp-LabShell")
    (ARTIFACTS / "login-to-lab-seconds.txt").write_text(f"{time.monotonic() - t0:.1f}\n")
    # The instructor-only nbgrader panels are not offered to students.
    page.click(".lm-MenuBar-itemLabel:text('Nbgrader')")
    items = [t.inner_text() for t in page.query_selector_all(".lm-Menu-itemLabel") if t.inner_text()]
    assert items == ["Assignment List"], f"students' Nbgrader menu: {items}"
    page.click(".lm-Menu-itemLabel:text('Assignment List')")
    released = page.locator("#released_assignments_list .list_item", has_text=AID)
    released.wait_for()
    page.screenshot(path=str(ARTIFACTS / "student-assignment-list.png"))
    released.locator("button", has_text="Fetch").click()
    page.locator("#fetched_assignments_list .list_item", has_text=AID).first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "student-fetched.png"))
    r = hub.api("carol", "GET", f"/user/carol/api/contents/{NB_PATH}")
    assert r.status_code == 200, "the fetched notebook is in carol's home"
    page.close()


@pytest.mark.browser
def test_browser_instructor_sees_submissions_in_formgrader(hub, browser):
    page = browser_login(browser, hub, "instructor")
    r = page.goto(f"{hub.url}/services/arena/formgrader/manage_submissions/{AID}")
    assert r.status == 200
    for user in ("alice", "bob"):
        page.locator("td", has_text=user).first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "instructor-formgrader-submissions.png"))
    page.close()


@pytest.mark.browser
def test_browser_student_gets_403_from_formgrader(hub, browser):
    page = browser_login(browser, hub, "alice")
    r = page.goto(f"{hub.url}/services/arena/formgrader/")
    assert r.status == 403
    page.screenshot(path=str(ARTIFACTS / "student-formgrader-403.png"))
    page.close()


DAY1 = "c0d1-ray-tracing"


@pytest.mark.browser
def test_browser_student_walks_through_a_day(hub, browser):
    """Day 0.1 as carol sees it: fetch, work (one exercise typed in the browser), validate,
    submit; the instructor grades with the engine and releases feedback; carol reads it.
    Screenshots in test-artifacts/day-walkthrough-*.png."""
    from arena_hub.grading import engine

    layout = hub.layout
    shot = lambda page, name: page.screenshot(path=str(ARTIFACTS / f"day-walkthrough-{name}.png"))  # noqa: E731
    formgrader(hub, "POST", f"/assignment/{DAY1}/assign")
    formgrader(hub, "POST", f"/assignment/{DAY1}/release")
    source = nbformat.read(layout.source / DAY1 / f"{DAY1}.ipynb", as_version=4)

    page = browser_login(browser, hub, "carol")
    page.wait_for_selector(".jp-LabShell")
    page.click(".lm-MenuBar-itemLabel:text('Nbgrader')")
    page.click(".lm-Menu-itemLabel:text('Assignment List')")
    row = page.locator("#released_assignments_list .list_item", has_text=DAY1)
    row.get_by_role("button", name="Fetch").click()
    page.locator("#fetched_assignments_list .list_item", has_text=DAY1).first.wait_for()
    shot(page, "1-fetched")

    # Work: every answer but one arrives through the contents API; make_rays_1d is typed here.
    path = f"{DAY1}/{DAY1}.ipynb"
    released = nbformat.from_dict(hub.api("carol", "GET", f"/user/carol/api/contents/{path}").json()["content"])
    answered = with_solutions(released, source)
    typed = next(c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "make_rays_1d")
    for c in answered.cells:
        if c.metadata.get("nbgrader", {}).get("grade_id") == "make_rays_1d":
            c.source = next(r.source for r in released.cells
                            if r.metadata.get("nbgrader", {}).get("grade_id") == "make_rays_1d")
    write(hub, "carol", path, answered)
    page.goto(f"{hub.url}/user/carol/lab/tree/{path}")
    cell = page.locator(".jp-CodeCell", has_text="def make_rays_1d").first
    cell.wait_for()
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(typed.source)
    page.keyboard.press("Control+S")
    page.wait_for_timeout(1000)
    shot(page, "2-work")
    saved = nbformat.from_dict(hub.api("carol", "GET", f"/user/carol/api/contents/{path}").json()["content"])
    assert any("linspace" in c.source for c in saved.cells if "def make_rays_1d" in c.source), \
        "the answer typed in the browser was not saved"

    # Validate from the notebook's toolbar: nbgrader runs the visible tests on carol's server.
    page.get_by_role("button", name="Validate").first.click()
    dialog = page.locator(".jp-Dialog", has_text="Validation Results")
    dialog.wait_for(timeout=180_000)
    shot(page, "3-validated")
    assert "passes all the tests" in dialog.inner_text(), dialog.inner_text()[:1000]
    dialog.get_by_role("button", name="Ok").click()

    # Submit from the assignment list.
    page.goto(f"{hub.url}/user/carol/lab")
    page.wait_for_selector(".jp-LabShell")
    page.click(".lm-MenuBar-itemLabel:text('Nbgrader')")
    page.click(".lm-Menu-itemLabel:text('Assignment List')")
    page.locator("#fetched_assignments_list .list_item", has_text=DAY1).get_by_role("button", name="Submit").click()
    page.locator("#submitted_assignments_list .list_item", has_text=DAY1).first.wait_for()
    shot(page, "4-submitted")

    # The instructor collects, grades with the engine, and releases feedback.
    formgrader(hub, "POST", f"/assignment/{DAY1}/collect")
    report = engine.grade(layout, DAY1, ["carol"], workers=1, stream=io.StringIO())
    assert not report.failed, [o.reason for o in report.failed]
    formgrader(hub, "POST", f"/assignment/{DAY1}/generate_feedback")
    formgrader(hub, "POST", f"/assignment/{DAY1}/release_feedback")

    # carol fetches her feedback and reads it.
    page.reload()
    page.wait_for_selector(".jp-LabShell")
    page.click(".lm-MenuBar-itemLabel:text('Nbgrader')")
    page.click(".lm-Menu-itemLabel:text('Assignment List')")
    page.locator("#submitted_assignments_list .list_item", has_text=DAY1).get_by_role(
        "button", name="Fetch Feedback").first.click()
    page.locator("#submitted_assignments_list", has_text="feedback").first.wait_for()
    shot(page, "5-feedback-fetched")
    r = hub.api("carol", "GET", f"/user/carol/api/contents/{DAY1}/feedback")
    stamp = r.json()["content"][0]["path"]
    page.goto(f"{hub.url}/user/carol/files/{stamp}/{DAY1}.html")
    page.get_by_text("Score: 100.0 / 100.0").first.wait_for()
    shot(page, "6-feedback")
    page.close()


# ----------------------------------------------------------------------------------------------
# The cohort dashboard (a hub service), on the gradebook the tests above filled by grading for real.

DASH = "/services/dashboard"


def test_student_gets_403_from_the_dashboard(hub):
    for path in ("/", "/data.json", "/csv/matrix"):
        assert hub.api("alice", "GET", f"{DASH}{path}").status_code == 403, path
    assert hub.api("instructor", "GET", f"{DASH}/data.json").status_code == 200


def test_dashboard_numbers_match_the_formgrader(hub):
    view = hub.api("instructor", "GET", f"{DASH}/data.json").json()
    cells = {(c["student"], c["day"]): c for row in view["matrix"] for c in row["cells"]}
    per_day = {d["day"]: d for d in view["per_day"]}
    checked = 0
    for day in (AID, DAY1):
        graded = [s for s in formgrader(hub, "GET", f"/submissions/{day}") if s["autograded"]]
        for s in graded:
            cell = cells[(s["student"], day)]
            assert cell["status"] == "graded", (s["student"], day, cell)
            assert cell["score"] == pytest.approx(s["score"]), (s["student"], day, cell, s)
            checked += 1
        assert per_day[day]["graded"] == len(graded), day
    assert checked >= 2, "the tests above should have graded submissions"
    assert set(view["cohort"]) == {"alice", "bob", "carol"}

    # Every table as CSV, with the filters applied.
    r = hub.api("instructor", "GET", f"{DASH}/csv/matrix?day={DAY1}")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    lines = r.text.splitlines()
    assert lines[0].startswith("student,day,status,score")
    assert {ln.split(",")[1] for ln in lines[1:]} == {DAY1}
    assert hub.api("instructor", "GET", f"{DASH}/csv/nonsense").status_code == 404
    # Another cohort: a hub group's members (here the graders group, nobody's submissions).
    other = hub.api("instructor", "GET", f"{DASH}/data.json?group=formgrade-arena").json()
    assert other["cohort"] == ["instructor"] and other["group"] == "formgrade-arena"


@pytest.mark.browser
def test_browser_instructor_reads_the_dashboard(hub, browser):
    page = browser_login(browser, hub, "instructor")
    r = page.goto(f"{hub.url}{DASH}/")
    assert r.status == 200
    page.wait_for_selector("#chart-distribution .main-svg")  # plotly drew it (served offline)
    view = hub.api("instructor", "GET", f"{DASH}/data.json").json()
    assert page.locator("#cohort-size").inner_text() == f"students: {len(view['cohort'])}"
    carol = next(c for row in view["matrix"] for c in row["cells"] if (c["student"], c["day"]) == ("carol", DAY1))
    shown = page.locator(f'#matrix span[data-student="carol"][data-day="{DAY1}"]').inner_text()
    assert shown == f"graded {carol['score']:.1f}", shown
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    page.close()
    student = browser_login(browser, hub, "alice")
    assert student.goto(f"{hub.url}{DASH}/").status == 403
    student.close()
