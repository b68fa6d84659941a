"""Released feedback never shows hidden tests or reference code, even when a submission tries."""

from __future__ import annotations

import html
import io
import re

import nbformat
import pytest

from arena_hub import release
from arena_hub.grading import engine
from tests.helpers import REPO, notebook, scratch_course, submit_files

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


def test_the_thief_gets_nothing_and_fails(feedback):
    """The engine never sends test code to the kernel: there is nothing to steal."""
    _, pages = feedback
    assert "(Score: 96.0 / 100.0)" in pages["thief"]
    assert "stolen:" in visible_text(pages["thief"])


def test_redaction_blanks_hidden_lines_wherever_they_appear():
    """Where tests did run in the kernel (plain nbgrader autograde, multi-process days), a
    student's code could read them: every hidden line is blanked from every output."""
    from nbformat.v4 import new_output

    from arena_hub.grading.feedback import RedactTests

    nb = nbformat.read(REPO / "source" / AID / f"{AID}.ipynb", as_version=4)
    hidden = sorted(release.solution_lines(REPO / "source" / AID, ("HIDDEN TESTS",)))[0]
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "rearrange_1")
    answer.outputs = [new_output("stream", name="stdout", text=f"stolen: {hidden}\n"),
                      new_output("error", ename="AssertionError", evalue=f"stolen: {hidden}",
                                 traceback=[f"AssertionError: stolen: {hidden}"])]
    test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_rearrange_1")
    test.outputs = [new_output("stream", name="stdout", text="debug print of the test\n"),
                    new_output("error", ename="AssertionError", evalue="rearrange_1(): output shape (2, 3)",
                               traceback=["...", "long traceback with code lines"])]
    nb, _ = RedactTests().preprocess(nb, {})
    text = nbformat.writes(nb)
    assert hidden not in text and "BEGIN HIDDEN TESTS" not in text and "[hidden test]" in text
    assert test.outputs == [new_output("error", ename="AssertionError", evalue="rearrange_1(): output shape (2, 3)",
                                       traceback=["AssertionError: rearrange_1(): output shape (2, 3)"])]
    assert "hidden tests of this cell are not shown" in test.source
