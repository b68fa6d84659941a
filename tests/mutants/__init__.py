"""Mutation cases: plausible bugs per exercise, each a one-line edit of the reference solution.

Each day has a module ``<id with underscores>.py`` defining ``MUTANTS``. A case names the
exercise (its solution cell's grade_id), replaces ``old`` by ``new`` in that cell (``old`` must
occur exactly once), and lists the test cells that must lose their points; every other test
cell must keep them.

The module also defines ``ALTERNATIVES``: ``{exercise: cell source}``, correct solutions written
differently from the reference (another algorithm or other operations). A submission with all
of them in place must still score full marks: the tests check behaviour, not the reference's
way of writing it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import nbformat


@dataclass(frozen=True)
class Mutant:
    exercise: str
    bug: str
    old: str
    new: str
    fails: frozenset[str]

    @property
    def slug(self) -> str:
        return f"{self.exercise}-{abs(hash((self.bug, self.old, self.new))) % 10**6:06d}"


def mutant(exercise: str, bug: str, old: str, new: str, fails) -> Mutant:
    return Mutant(exercise, bug, old, new, frozenset([fails] if isinstance(fails, str) else fails))


def for_day(assignment_id: str) -> list[Mutant]:
    module = importlib.import_module(f"tests.mutants.{assignment_id.replace('-', '_')}")
    return module.MUTANTS


def alternatives_for_day(assignment_id: str) -> dict[str, str]:
    module = importlib.import_module(f"tests.mutants.{assignment_id.replace('-', '_')}")
    return getattr(module, "ALTERNATIVES", {})


def apply_alternatives(nb: nbformat.NotebookNode, alternatives: dict[str, str]) -> nbformat.NotebookNode:
    """A copy of the notebook with each named solution cell replaced by its alternative."""
    nb = nbformat.from_dict(nb)
    for exercise, source in alternatives.items():
        cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == exercise]
        assert len(cells) == 1 and cells[0].metadata["nbgrader"].get("solution"), \
            f"no single solution cell {exercise!r}"
        cells[0].source = source
    return nb


def apply(nb: nbformat.NotebookNode, m: Mutant) -> nbformat.NotebookNode:
    """A copy of the notebook with the mutant applied to its exercise's solution cell."""
    nb = nbformat.from_dict(nb)
    cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == m.exercise]
    assert len(cells) == 1, f"no single solution cell {m.exercise!r}"
    count = cells[0].source.count(m.old)
    assert count == 1, f"{m.exercise}: {m.old!r} occurs {count} times in the reference"
    cells[0].source = cells[0].source.replace(m.old, m.new)
    return nb
