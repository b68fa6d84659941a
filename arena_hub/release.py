"""Building ``release/`` from ``source/`` with nbgrader, and proving it leaks nothing.

``release/`` is committed: it is exactly what students get. ``build`` regenerates it with
``nbgrader generate_assignment`` (which also records the assignment in the gradebook), and
``problems`` lists everything wrong with it: stale files, solution or hidden-test text,
instructor-only files or metadata.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from .course import Layout

MARKERS = re.compile(r"(BEGIN|END) (SOLUTION|HIDDEN TESTS|MARK SCHEME)")
REGION = re.compile(
    r"### BEGIN (SOLUTION|HIDDEN TESTS|MARK SCHEME)\n(.*?)### END \1", re.DOTALL
)
#: Files of source/<id>/ that nbgrader must not copy into the release (see configure_nbgrader).
INSTRUCTOR_FILES = {"assignment.toml"}
#: Notebook and cell metadata keys a release may carry; anything else is instructor-only.
NOTEBOOK_KEYS = {"kernelspec", "language_info"}
CELL_KEYS = {"nbgrader", "tags", "editable", "deletable", "collapsed", "jupyter", "scrolled",
             "trusted"}
#: Shorter lines ("return x", "pass") legitimately appear in provided code too.
MIN_LEAK_LINE = 24


def nbgrader_env(layout: Layout) -> dict:
    env = dict(os.environ)
    env["ARENA_HUB_COURSE_ROOT"] = str(layout.course_root)
    env["ARENA_HUB_DATA_DIR"] = str(layout.data_dir)
    env["ARENA_HUB_EXCHANGE_DIR"] = str(layout.exchange)
    env["ARENA_HUB_GRADEBOOK_URL"] = layout.gradebook_url
    # nbgrader runs `alembic` (and kernels run `python`) from PATH: use this venv's.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def nbgrader(layout: Layout, *args: str) -> subprocess.CompletedProcess:
    """Run an nbgrader command in the course root with this layout's config."""
    cmd = [str(Path(sys.executable).parent / "nbgrader"), *args]
    return subprocess.run(cmd, cwd=layout.course_root, env=nbgrader_env(layout),
                          capture_output=True, text=True)


def build(layout: Layout, assignment_ids: list[str] | None = None) -> list[str]:
    """Regenerate ``release/<id>`` for the given (default: all) assignments; return the ids."""
    ids = assignment_ids or layout.assignment_ids()
    layout.data_dir.mkdir(parents=True, exist_ok=True)
    for aid in ids:
        layout.spec(aid)  # a broken assignment.toml fails here, before anything is written
        proc = nbgrader(layout, "generate_assignment", aid, "--force")
        if proc.returncode != 0:
            raise RuntimeError(f"nbgrader generate_assignment {aid} failed:\n{proc.stdout}{proc.stderr}")
    return ids


def solution_lines(source_dir: Path, kinds=("SOLUTION", "HIDDEN TESTS", "MARK SCHEME")) -> set[str]:
    """Lines found only inside solution, hidden-test and mark-scheme regions of an assignment.

    A line that the source also shows outside those regions (a visible test repeated in a hidden
    one) is public anyway and is not counted.
    """
    secret, public = set(), set()
    for path in source_dir.rglob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            for match in REGION.finditer(cell.source):
                if match.group(1) in kinds:
                    secret.update(line.strip() for line in match.group(2).splitlines())
            public.update(line.strip() for line in REGION.sub("", cell.source).splitlines())
    return {line for line in secret - public
            if len(line) >= MIN_LEAK_LINE and not line.startswith("#")}


def _diff_trees(a: Path, b: Path, rel=Path()) -> list[str]:
    cmp = filecmp.dircmp(a, b, ignore=["__pycache__", ".ipynb_checkpoints"])
    out = [f"{rel / n} is missing from release/" for n in cmp.left_only]
    out += [f"{rel / n} is in release/ but not built from source/" for n in cmp.right_only]
    out += [f"{rel / n} differs from a fresh build" for n in cmp.diff_files]
    for sub in cmp.common_dirs:
        out += _diff_trees(a / sub, b / sub, rel / sub)
    return out


def stale(layout: Layout) -> list[str]:
    """Differences between the committed ``release/`` and a fresh build of ``source/``."""
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Layout(Path(tmp) / "course", Path(tmp) / "data", Path(tmp) / "exchange",
                         f"sqlite:///{tmp}/gradebook.db")
        scratch.course_root.mkdir()
        shutil.copytree(layout.source, scratch.source)
        shutil.copy(layout.course_root / "nbgrader_config.py", scratch.course_root)
        build(scratch)
        fresh, committed = scratch.release, layout.release
        if not committed.is_dir():
            return ["release/ does not exist; run `arena-hub build`"]
        return [f"release/{p}" for p in _diff_trees(fresh, committed)]


def leaks(layout: Layout) -> list[str]:
    """Solution code, hidden tests or instructor-only material found in ``release/``."""
    found = []
    if not layout.release.is_dir():
        return found
    for release_dir in sorted(p for p in layout.release.iterdir() if p.is_dir()):
        secret = solution_lines(layout.source / release_dir.name)
        for path in sorted(release_dir.rglob("*")):
            rel = path.relative_to(layout.course_root)
            if not path.is_file():
                continue
            if path.name in INSTRUCTOR_FILES:
                found.append(f"{rel}: instructor-only file")
                continue
            text = path.read_text(errors="replace")
            if MARKERS.search(text):
                found.append(f"{rel}: contains a solution/hidden-test marker")
            if path.suffix == ".ipynb":
                nb = nbformat.reads(text, as_version=4)
                lines = {ln.strip() for cell in nb.cells for ln in cell.source.splitlines()}
            else:
                lines = {ln.strip() for ln in text.splitlines()}
            for line in sorted(secret & lines):
                found.append(f"{rel}: contains solution or hidden-test code: {line!r}")
            if path.suffix == ".ipynb":
                extra = set(nb.metadata) - NOTEBOOK_KEYS
                if extra:
                    found.append(f"{rel}: notebook metadata {sorted(extra)} is instructor-only")
                for i, cell in enumerate(nb.cells):
                    extra = set(cell.metadata) - CELL_KEYS
                    if extra:
                        found.append(f"{rel}: cell {i} metadata {sorted(extra)} is instructor-only")
    return found
