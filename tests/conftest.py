"""Shared fixtures. The example course (a third, tiny lab) is copied to a temp dir
so tests never write into the repository."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # The suite runs many tiny models; torch's thread pool only adds contention on 2 cores.
    import torch

    torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_COURSE = REPO / "tests" / "example_course"


@pytest.fixture
def example_course(tmp_path: Path) -> Path:
    dest = tmp_path / "course"
    shutil.copytree(EXAMPLE_COURSE, dest, ignore=shutil.ignore_patterns("assignments", "__pycache__"))
    return dest / "course.yaml"
