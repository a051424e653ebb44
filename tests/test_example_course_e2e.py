"""The framework on a lab it was not written for: the example course's toy lab, end to end.

release (verb) -> a sample class of 20 with every category (autograder.demo.sample_class)
-> grade (verb) -> the grader concludes what the manifest expects, and the files a
TA and a student open are there. This is the guide in docs/authoring.md, run.
"""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

from autograder.cli import main
from autograder.demo.sample_class import build_lab, check_expectations

REPO = Path(__file__).resolve().parents[1]
LAB = "toy_affine"


def test_example_course_end_to_end(tmp_path, capsys):
    course = tmp_path / "course"
    shutil.copytree(REPO / "tests" / "example_course", course, ignore=shutil.ignore_patterns("assignments", "__pycache__"))
    cfg = str(course / "course.yaml")
    assert main(["--course", cfg, "release"]) == 0
    assert (course / "assignments" / "release" / LAB / f"{LAB}.ipynb").exists()

    cls = build_lab(LAB, 20, 0, tmp_path / "subs", "folder", course=cfg)
    kinds = {s.hostile or s.category for s in cls.students.values()}
    assert {"correct", "stub", "infinite_loop", "tampered_locked", "deleted_cell", "invalid_json"} <= kinds

    out = tmp_path / "out"
    assert main(["--course", cfg, "grade", LAB, str(tmp_path / "subs"), "--out", str(out), "--sandbox", "none",
                 "--workers", "2", "--timeout", "5", "--no-progress"]) == 0
    summary = capsys.readouterr().out
    assert "graded now 20" in summary

    problems = check_expectations(cls.manifest(), out, LAB)
    assert problems == []

    with open(out / "grades.csv", newline="") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    assert set(rows) == set(cls.students)
    for sid in rows:
        page = (out / "feedback" / f"{sid}.html").read_text()
        assert "def test_" not in page and "<script" not in page
    report = (out / "report.html").read_text()
    for section in ('id="summary"', 'id="tests"', 'id="problems"', 'id="students"'):
        assert section in report
    # a second run grades nothing and changes nothing
    before = (out / "grades.csv").read_bytes()
    assert main(["--course", cfg, "grade", LAB, str(tmp_path / "subs"), "--out", str(out), "--sandbox", "none",
                 "--timeout", "5", "--no-progress"]) == 0
    assert "graded now 0" in capsys.readouterr().out
    assert (out / "grades.csv").read_bytes() == before

    # the report verb rewrites the pages from the gradebook alone: byte-identical pages, no regrading,
    # the CSV/JSONL files untouched, stale pages of students no longer graded removed
    from autograder.gradebook import Gradebook

    pages = {p.name: p.read_bytes() for p in (out / "feedback").glob("*.html")}
    report = (out / "report.html").read_bytes()
    results = (out / "results.jsonl").read_bytes()
    with Gradebook(out / "gradebook.sqlite") as gb:
        runs = gb.count_runs(LAB)
    shutil.rmtree(out / "feedback")
    (out / "report.html").unlink()
    (out / "grades.csv").write_text("left alone\n")
    (out / "feedback").mkdir()
    (out / "feedback" / "someone_gone.html").write_text("<p>old</p>")
    assert main(["--course", cfg, "report", LAB, "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "20 students" in said and str(out / "report.html") in said
    assert {p.name: p.read_bytes() for p in (out / "feedback").glob("*.html")} == pages
    assert (out / "report.html").read_bytes() == report
    assert (out / "grades.csv").read_text() == "left alone\n" and (out / "results.jsonl").read_bytes() == results
    with Gradebook(out / "gradebook.sqlite") as gb:
        assert gb.count_runs(LAB) == runs
    # no gradebook: a clear error, nothing written
    assert main(["--course", cfg, "report", LAB, "--out", str(tmp_path / "nowhere")]) == 2
    assert "grade first" in capsys.readouterr().err
    assert not (tmp_path / "nowhere").exists()
