"""Points per hidden test, read from a lab's ``hidden/points.yaml``.

The file is grouped by ``grade_id`` so an instructor sees at a glance what each
answer cell is worth::

    w10_rnn_cell:
      test_rnn_cell_shape: {points: 1, title: "RNNCell returns a (B, H) hidden state"}
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


class PointsError(ValueError):
    pass


@dataclass(frozen=True)
class TestSpec:
    name: str
    grade_id: str
    points: float
    title: str


def load_points(path: Path) -> dict[str, TestSpec]:
    raw = yaml.safe_load(path.read_text()) or {}
    specs: dict[str, TestSpec] = {}
    for gid, tests in raw.items():
        if not isinstance(tests, dict):
            raise PointsError(f"{path}: '{gid}' must map test names to {{points, title}}")
        for name, entry in tests.items():
            if not isinstance(entry, dict) or "points" not in entry or "title" not in entry:
                raise PointsError(f"{path}: {gid}.{name} needs 'points' and 'title'")
            if name in specs:
                raise PointsError(f"{path}: test {name} listed twice")
            points = float(entry["points"])
            if points <= 0:
                raise PointsError(f"{path}: {gid}.{name} must carry positive points")
            specs[name] = TestSpec(name, gid, points, str(entry["title"]))
    return specs


def max_points_by_grade_id(specs: dict[str, TestSpec]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for spec in specs.values():
        totals[spec.grade_id] = totals.get(spec.grade_id, 0.0) + spec.points
    return totals
