"""Released feedback never shows hidden tests or reference code, even when a submission tries."""

from __future__ import annotations

import html
import io
import re

import nbformat
import pytest

from arena_hub import release
from arena_hub.grading import engine
from tests.helpers import notebook, scratch_course, submit_files

AID = "c0d0-prereqs"

EXFILTRATE = '''def rearrange_1():
    import inspect, linecache
    caller = inspect.stack()[1].frame
    stolen = "".join(linecache.getlines(caller.f_code.co_filename))
    print(stolen)
    raise AssertionError("stolen: " + stolen)'''


@pytest.fixture(scope="module")
def feedback(tmp_path_factory):
    layout = scratch_course(tmp_path_factory.mktemp("feedback"))
    release.build(layout, [AID])
    src, rel = notebook(layout, "source", AID), notebook(layout, "release", AID)
    thief = nbformat.from_dict(src)
    next(c for c in thief.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "rearrange_1").source = EXFILTRATE
    submit_files(layout, AID, {"reference": src, "untouched": rel, "thief": thief})
    report = engine.grade(layout, AID, workers=2, stream=io.StringIO())
    assert not report.failed
    proc = release.nbgrader(layout, "generate_feedback", AID, "--force")
    assert proc.returncode == 0, proc.stderr
    pages = {s: (layout.feedback / s / AID / f"{AID}.html").read_text() for s in ("reference", "untouched", "thief")}
    return layout, pages


def visible_text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_feedback_shows_names_points_and_messages(feedback):
    _, pages = feedback
    assert "(Score: 100.0 / 100.0)" in pages["reference"]
    assert "(Score: 0.0 / 100.0)" in pages["untouched"]
    text = visible_text(pages["untouched"])
    assert "test_rearrange_1" in pages["untouched"] and "NotImplementedError" in text
    assert "hidden tests of this cell are not shown" in text


@pytest.mark.parametrize("student", ["reference", "untouched", "thief"])
def test_feedback_never_shows_hidden_tests_or_reference_code(feedback, student):
    layout, pages = feedback
    lines = {ln.strip() for ln in visible_text(pages[student]).splitlines()}
    text = visible_text(pages[student])
    # Students who submitted the reference see their own code; the untouched one must not see it.
    kinds = ("HIDDEN TESTS",) if student != "untouched" else ("HIDDEN TESTS", "SOLUTION")
    leaked = sorted(release.solution_lines(layout.source / AID, kinds) & lines)
    assert not leaked, f"{student}'s feedback shows: {leaked[:3]}"
    assert "BEGIN HIDDEN TESTS" not in text
    assert student != "untouched" or "BEGIN SOLUTION" not in text


def test_a_stolen_test_is_blanked_but_the_student_sees_it_failed(feedback):
    _, pages = feedback
    text = visible_text(pages["thief"])
    assert "stolen:" in text and "[hidden test]" in text
    assert "(Score: 96.0 / 100.0)" in pages["thief"]
