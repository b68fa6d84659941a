"""Feedback that shows each test's name, points, pass/fail and failure message, and nothing else.

nbgrader puts the hidden tests back into the autograded notebook and renders them, with full
tracebacks, into the HTML feedback (upstream #917, #1363). ``RedactTests`` runs in
``GenerateFeedback`` (nbgrader's preprocessor seam) before the HTML is made: every autograded
test cell keeps only its visible part, its outputs shrink to the failure message, and any
hidden-test line that found its way into any output (a student's code can read its caller's
source and print or raise it) is blanked out.
"""

from __future__ import annotations

import re

from nbgrader.preprocessors import NbGraderPreprocessor as Preprocessor  # enabled by default
from nbformat.v4 import new_output

HIDDEN = re.compile(r"[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[ \t]*\n?", re.DOTALL)
HIDDEN_BODY = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.DOTALL)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
MIN_LINE = 8  # shorter lines ("])", "else:") say nothing about a test
REDACTED = "[hidden test]"


def _is_test(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")


def _texts(output):
    """(key, text) pairs of an output that a student will read."""
    if output.get("output_type") == "stream":
        yield "text", output.get("text", "")
    elif output.get("output_type") == "error":
        yield "evalue", output.get("evalue", "")
    else:
        for mime, value in output.get("data", {}).items():
            if isinstance(value, str) and mime.startswith("text/"):
                yield mime, value


class RedactTests(Preprocessor):
    """Strip hidden tests and tracebacks from autograded notebooks before feedback is made."""

    def preprocess(self, nb, resources):
        secret = set()
        for cell in nb.cells:
            if _is_test(cell):
                for body in HIDDEN_BODY.findall(cell.source):
                    secret |= {ln.strip() for ln in body.splitlines() if len(ln.strip()) >= MIN_LINE}
        public = {ln.strip() for cell in nb.cells for ln in HIDDEN.sub("", cell.source).splitlines()}
        markers = {"### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"}
        self.secret = sorted((secret - public) | markers, key=len, reverse=True)
        return super().preprocess(nb, resources)

    def redact(self, text: str) -> str:
        for line in self.secret:
            text = text.replace(line, REDACTED)
        return text

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if _is_test(cell):
            visible = HIDDEN.sub("", cell.source).rstrip()
            cell.source = visible + "\n# (hidden tests of this cell are not shown)"
            errors = [o for o in cell.outputs if o.get("output_type") == "error"]
            cell.outputs = [
                new_output("error", ename=e.get("ename", "Error"),
                           evalue=self.redact(ANSI.sub("", e.get("evalue", ""))), traceback=[
                               f"{e.get('ename', 'Error')}: {self.redact(ANSI.sub('', e.get('evalue', '')))}"])
                for e in errors[-1:]
            ]
            return cell, resources
        for output in cell.get("outputs", []):
            for key, text in list(_texts(output)):
                if key in ("text", "evalue"):
                    output[key] = self.redact(text)
                else:
                    output["data"][key] = self.redact(text)
            if output.get("output_type") == "error":
                output["traceback"] = [self.redact(t) for t in output.get("traceback", [])]
        return cell, resources
