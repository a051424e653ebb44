"""End to end on the real Week 10 lab: a small class graded by the batch grader."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import nbformat
import pytest

from autograder.grading.batch import BatchGrader, GradeOptions

REPO = Path(__file__).resolve().parents[1]
LAB = "week10_rnn"
HIDDEN = REPO / "solutions" / LAB / "hidden"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (HIDDEN / "points.yaml").exists(), reason="week10_rnn hidden tests not written yet"),
]


@pytest.fixture
def course(tmp_path):
    """The repository's labs and rubrics, with a private assignments/ folder (the solution is the
    trusted notebook), so the test neither reads a stale release nor writes into the repo."""
    path = tmp_path / "course.yaml"
    path.write_text(
        f"course: test\nlabs: [{LAB}]\nsolutions_dir: {REPO / 'solutions'}\nrubrics_dir: {REPO / 'rubrics'}\n"
        f"assignments_dir: {tmp_path / 'assignments'}\ngrading:\n  timeout_s: 120\n")
    return path


def test_week10_class(course, tmp_path, monkeypatch):
    from autograder.config import load_config
    from autograder.labs import load_lab
    from autograder.release.generate import student_version
    from autograder.scoring.corpus import apply_mutant, load_mutants

    monkeypatch.setenv("AUTOGRADER_EMBEDDER", "hashing")  # the real model is evaluated by the rubric tests
    lab = load_lab(LAB, load_config(course))
    solution = nbformat.read(str(lab.notebook), as_version=4)
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(solution, str(subs / "ada.ipynb"))
    mutant = load_mutants(LAB)[0]
    nbformat.write(apply_mutant(solution, mutant), str(subs / "bo.ipynb"))
    nbformat.write(student_version(solution), str(subs / "cy.ipynb"))  # handed in untouched

    out = tmp_path / "out"
    summary = BatchGrader(GradeOptions(LAB, subs, out, sandbox="none", workers=2, course=course)).run()
    assert summary.graded_now == 3
    with open(out / "grades.csv", newline="") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    ada, bo, cy = rows["ada"], rows["bo"], rows["cy"]
    assert {r["status"] for r in rows.values()} == {"graded"}
    assert ada["code_points"] == ada["code_max"] and float(ada["code_max"]) > 0
    assert float(bo["code_points"]) < float(ada["code_points"])
    assert cy["code_points"] == "0" and cy["written_points"] == "0"
    assert float(ada["written_max"]) > 0 and ada["max_points"] == cy["max_points"]
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    rubric_items = {r["item"] for r in results if r["kind"] == "rubric"}
    assert any(i.startswith("w10_explain_clipping/") for i in rubric_items)
    mutated = [r for r in results if r["student_id"] == "bo" and r["status"] != "pass" and r["kind"] == "test"]
    assert mutated and all(r["grade_id"] == mutant.grade_id for r in mutated)
    page = (out / "feedback" / "bo.html").read_text()
    assert "Build" in page and "Predict &amp; probe" in page and "Explain &amp; defend" in page
    assert "def test_" not in page
