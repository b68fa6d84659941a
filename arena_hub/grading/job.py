"""One grading job: one student's latest submission of one assignment, and its resources."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from ..course import Layout


@dataclass(frozen=True)
class GradingJob:
    """Everything a backend needs to grade one submission, whatever runs it."""

    assignment_id: str
    student_id: str
    timestamp: str  # the submission's timestamp.txt ('' if none): identifies what was graded
    cpus: float = 1.0
    memory_mib: int = 2048
    gpus: int = 0
    world_size: int = 1
    timeout_seconds: int = 180
    cell_timeout_seconds: int = 30
    max_pids: int = 256
    max_file_mib: int = 64
    network: bool = False  # no backend grants network; kept so a job states it
    image: str = ""  # the grader image; "" = the backend's configured image

    @property
    def id(self) -> str:
        safe = re.sub(r"[^a-z0-9-]", "-", self.student_id.lower())
        return f"{self.assignment_id}--{safe}"[:100]

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "GradingJob":
        return cls(**json.loads(text))


LAUNCHERS = ("auto", "fork", "torchrun")


def launcher_trait():
    """The ``ranks_launcher`` setting of the container backends (docker, kubernetes)."""
    from traitlets import Enum

    return Enum(list(LAUNCHERS), "auto",
                help="How multi-process days start their ranks: auto = torchrun --standalone (one "
                     "GPU per rank) when the job has GPUs, forked gloo ranks otherwise.").tag(config=True)


def ranks_launcher(job: GradingJob, setting: str = "auto") -> str:
    """How a multi-process job starts its ranks: ``torchrun`` (one GPU per rank) when the job
    has GPUs, else forked gloo ranks on CPU; a backend setting other than ``auto`` decides."""
    if setting != "auto":
        return setting
    return "torchrun" if job.gpus else "fork"


def read_timestamp(submission_dir: Path) -> str:
    path = submission_dir / "timestamp.txt"
    return path.read_text().strip() if path.exists() else ""


def plan(layout: Layout, assignment_id: str, students: list[str] | None = None) -> list[GradingJob]:
    """A job for each collected submission (``submitted/<student>/<id>/``) of the assignment."""
    spec = layout.spec(assignment_id).grading_spec
    found = sorted(p.parent.name for p in layout.submitted.glob(f"*/{assignment_id}") if p.is_dir())
    if students:
        missing = sorted(set(students) - set(found))
        if missing:
            raise ValueError(f"no collected submission of {assignment_id} for: {', '.join(missing)}")
        found = [s for s in found if s in set(students)]
    return [
        GradingJob(
            assignment_id=assignment_id,
            student_id=student,
            timestamp=read_timestamp(layout.submitted / student / assignment_id),
            memory_mib=spec.memory_mib,
            gpus=spec.gpus,
            world_size=spec.world_size,
            timeout_seconds=spec.effective_timeout,
            cell_timeout_seconds=spec.cell_timeout_seconds,
        )
        for student in found
    ]
