"""Course configuration (``course.yaml``): where labs live and the grading limits.

One small YAML file an instructor can read replaces nbgrader's traitlets config.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class GradingLimits:
    workers: int | str = "auto"
    timeout_s: float = 60.0
    memory_mb: int = 3072
    max_processes: int = 64
    max_output_kb: int = 256
    run_experiments: bool = False
    # Dask scheduler address (tcp://host:8786): grade on a cluster instead of this machine's
    # cores; "" grades locally. `autograder grade --scheduler` overrides it (docs/cluster.md).
    scheduler: str = ""

    def worker_count(self) -> int:
        if self.workers == "auto":
            return max(1, os.cpu_count() or 1)
        return max(1, int(self.workers))


@dataclass(frozen=True)
class CourseConfig:
    root: Path
    course: str = "course"
    labs: tuple[str, ...] = ()
    solutions_dir: Path = Path("solutions")
    rubrics_dir: Path = Path("rubrics")
    assignments_dir: Path = Path("assignments")
    grading: GradingLimits = field(default_factory=GradingLimits)

    def lab_dir(self, lab: str) -> Path:
        return self.solutions_dir / lab


class ConfigError(ValueError):
    """An instructor-facing problem in course.yaml."""


def load_config(path: Path | str | None = None) -> CourseConfig:
    """Read ``course.yaml`` (default: the one next to the package) and resolve paths."""
    path = Path(path) if path else Path(os.environ.get("AUTOGRADER_COURSE", REPO_ROOT / "course.yaml"))
    try:
        raw: dict[str, Any] = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError as exc:
        raise ConfigError(f"course configuration not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    root = path.resolve().parent
    known = {f.name for f in fields(GradingLimits)}
    grading_raw = raw.get("grading") or {}
    unknown = set(grading_raw) - known
    if unknown:
        raise ConfigError(f"{path}: unknown grading settings {sorted(unknown)}; known: {sorted(known)}")
    return CourseConfig(
        root=root,
        course=str(raw.get("course", "course")),
        labs=tuple(raw.get("labs") or ()),
        solutions_dir=root / raw.get("solutions_dir", "solutions"),
        rubrics_dir=root / raw.get("rubrics_dir", "rubrics"),
        assignments_dir=root / raw.get("assignments_dir", "assignments"),
        grading=GradingLimits(**grading_raw),
    )
