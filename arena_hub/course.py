"""The course: where its files live, assignment ids, per-assignment metadata, FAST/FULL.

The repository root is the nbgrader course directory (``source/``, ``release/``). Runtime state
(``submitted/``, ``autograded/``, ``feedback/``, the gradebook and the hub's own files) lives under a
data directory: the course root itself unless ``ARENA_HUB_DATA_DIR`` points elsewhere.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from traitlets import Bool, Dict, HasTraits, Int, List, TraitError, Unicode, validate

COURSE_ID = "arena"

#: ``c<chapter>d<day>-<slug>`` (ARENA day N.K -> cNdK) or ``c<chapter>x<k>-<slug>`` for bonus days.
ASSIGNMENT_ID_RE = re.compile(r"^c[0-9][dx][0-9]-[a-z0-9]+(-[a-z0-9]+)*$")
MAX_ID_LENGTH = 40

COURSE_ROOT = Path(__file__).resolve().parent.parent


def check_assignment_id(assignment_id: str) -> str:
    """Return ``assignment_id`` if it follows the id scheme, else raise ValueError saying why."""
    if len(assignment_id) > MAX_ID_LENGTH:
        raise ValueError(
            f"assignment id {assignment_id!r} has {len(assignment_id)} characters; at most "
            f"{MAX_ID_LENGTH} are allowed (it must fit a Kubernetes label)"
        )
    if not ASSIGNMENT_ID_RE.match(assignment_id):
        raise ValueError(
            f"assignment id {assignment_id!r} does not follow the scheme c<chapter>d<day>-<slug> "
            "(lowercase letters, digits and single hyphens), e.g. c0d1-ray-tracing"
        )
    return assignment_id


@dataclass(frozen=True)
class Layout:
    """Every path the course and the hub use, derived from two roots."""

    course_root: Path
    data_dir: Path
    exchange: Path
    gradebook_url: str

    @classmethod
    def from_env(cls, env=None) -> "Layout":
        env = os.environ if env is None else env
        root = Path(env.get("ARENA_HUB_COURSE_ROOT") or COURSE_ROOT).resolve()
        data = Path(env.get("ARENA_HUB_DATA_DIR") or root).resolve()
        # Containers mount the exchange at a fixed path; the embedded hub keeps it under runtime/.
        exchange = Path(env.get("ARENA_HUB_EXCHANGE_DIR") or data / "runtime" / "exchange")
        gradebook = env.get("ARENA_HUB_GRADEBOOK_URL") or f"sqlite:///{data / 'gradebook.db'}"
        return cls(root, data, exchange, gradebook)

    source = property(lambda self: self.course_root / "source")
    release = property(lambda self: self.course_root / "release")
    submitted = property(lambda self: self.data_dir / "submitted")
    autograded = property(lambda self: self.data_dir / "autograded")
    feedback = property(lambda self: self.data_dir / "feedback")
    gradebook = property(lambda self: self.data_dir / "gradebook.db")
    runtime = property(lambda self: self.data_dir / "runtime")

    def assignment_ids(self) -> list[str]:
        """The assignments authored in ``source/``, in course order."""
        if not self.source.is_dir():
            return []
        return sorted(
            p.name for p in self.source.iterdir() if (p / "assignment.toml").is_file()
        )

    def spec(self, assignment_id: str) -> "AssignmentSpec":
        return AssignmentSpec.load(self.source / assignment_id / "assignment.toml")


def configure_nbgrader(c, layout: Layout | None = None) -> None:
    """Point an nbgrader config object at this course's directories (instructor side)."""
    layout = layout or Layout.from_env()
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.root = str(layout.course_root)
    # nbgrader joins these onto the root; absolute paths take the runtime state elsewhere.
    c.CourseDirectory.submitted_directory = str(layout.submitted)
    c.CourseDirectory.autograded_directory = str(layout.autograded)
    c.CourseDirectory.feedback_directory = str(layout.feedback)
    c.CourseDirectory.db_url = layout.gradebook_url
    c.Exchange.root = str(layout.exchange)
    c.Exchange.path_includes_course = False
    # Feedback shows test names, points, pass/fail and messages, never hidden tests.
    c.GenerateFeedback.preprocessors = [
        "arena_hub.grading.feedback.RedactTests",
        "nbgrader.preprocessors.GetGrades",
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    ]
    # nbgrader copies source/<id>/ into the release; the grader-only metadata file stays behind.
    c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback",
                                "assignment.toml"]
    from .exchange import configure_per_student

    configure_per_student(c)  # containers: per-student inbound/ and feedback/ folders


# ----------------------------------------------------------------------------------------------
# assignment.toml


class _Table(HasTraits):
    @classmethod
    def from_dict(cls, where: str, data: dict):
        unknown = set(data) - set(cls.class_trait_names())
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: "
                             f"{sorted(cls.class_trait_names())}")
        try:
            return cls(**data)
        except TraitError as e:
            raise ValueError(f"{where}: {e}") from None


class FullSpec(_Table):
    """What a student server needs for the FULL-size run."""

    gpus = Int(0, min=0, help="GPUs a student server needs to run the notebook at full size.")
    gpu_memory_gib = Int(0, min=0, help="GPU memory (GiB) the full-size run needs per GPU.")


class GradingSpec(_Table):
    """What the grader gives one submission of this assignment."""

    gpus = Int(0, min=0, help="GPUs of a production grading job (0: CPU). CI always grades on CPU.")
    world_size = Int(1, min=1, help="Processes the hidden tests start (gloo on CPU, nccl on GPUs).")
    cpu_budget_seconds = Int(
        60, min=1, help="Target time of the whole solution notebook, FAST, one thread (benchmarked)."
    )
    timeout_seconds = Int(
        0, min=0,
        help="Hard wall-clock limit of one submission's run; 0 means 3 x cpu_budget_seconds.",
    )
    cell_timeout_seconds = Int(30, min=1, help="nbgrader's per-cell execution timeout.")
    memory_mib = Int(2048, min=128, help="Memory limit of one grading run.")

    @property
    def effective_timeout(self) -> int:
        return self.timeout_seconds or 3 * self.cpu_budget_seconds


class AssetsSpec(_Table):
    files = List(Unicode(), help="Committed artifacts this day loads in FAST mode.")


class AssignmentSpec(_Table):
    """``source/<id>/assignment.toml``: an assignment's identity and resource needs.

    The grader reads it from the course source, never from a submission.
    """

    id = Unicode(help="The assignment id; equals the folder name.")
    title = Unicode(help="Human title of the day.")
    arena = Unicode(help="The ARENA 2.0 day number, e.g. '0.1'.")
    bonus = Bool(False, help="True when the whole day is optional.")
    full = Dict(help="[full] table, see FullSpec.")
    grading = Dict(help="[grading] table, see GradingSpec.")
    assets = Dict(help="[assets] table, see AssetsSpec.")

    @validate("id")
    def _check_id(self, proposal):
        return check_assignment_id(proposal["value"])

    @classmethod
    def load(cls, path: Path) -> "AssignmentSpec":
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as e:
            raise ValueError(f"{path}: not valid TOML: {e}") from None
        for key in ("id", "title", "arena"):
            if key not in data:
                raise ValueError(f"{path}: missing required key {key!r}")
        spec = cls.from_dict(str(path), data)
        if spec.id != path.parent.name:
            raise ValueError(f"{path}: id {spec.id!r} differs from its folder {path.parent.name!r}")
        # Validate the sub-tables now so a typo fails at build time, not at grading time.
        spec.full_spec, spec.grading_spec, spec.assets_spec  # noqa: B018
        return spec

    @property
    def full_spec(self) -> FullSpec:
        return FullSpec.from_dict(f"{self.id} [full]", self.full)

    @property
    def grading_spec(self) -> GradingSpec:
        return GradingSpec.from_dict(f"{self.id} [grading]", self.grading)

    @property
    def assets_spec(self) -> AssetsSpec:
        return AssetsSpec.from_dict(f"{self.id} [assets]", self.assets)


# ----------------------------------------------------------------------------------------------
# FAST / FULL


def size() -> str:
    """``ARENA_HUB_SIZE``: 'fast' (tiny, CPU, what the grader runs) or 'full' (GPU, real sizes)."""
    value = os.environ.get("ARENA_HUB_SIZE", "fast").strip().lower() or "fast"
    if value not in ("fast", "full"):
        raise ValueError(f"ARENA_HUB_SIZE must be 'fast' or 'full', not {value!r}")
    return value


def data_mode() -> str:
    """``ARENA_HUB_DATA``: 'offline' (generated/committed data) or 'online' (real downloads).

    Unset, it follows the size (fast -> offline, full -> online); unset everything never downloads.
    """
    value = os.environ.get("ARENA_HUB_DATA", "").strip().lower()
    if not value:
        return "online" if size() == "full" else "offline"
    if value not in ("offline", "online"):
        raise ValueError(f"ARENA_HUB_DATA must be 'offline' or 'online', not {value!r}")
    return value


def pick(fast, full):
    """Choose a value by the size switch: ``N_STEPS = pick(fast=60, full=2500)``."""
    return full if size() == "full" else fast
