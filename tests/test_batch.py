"""Batch grading end to end on the toy lab: statuses, output files, resumability, TA decisions."""
from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.cli import main
from autograder.grading.batch import BatchGrader, GradeOptions
from autograder.reports.exports import GRADES_COLUMNS, RESULT_KEYS
from grading_helpers import BUGGY, GOOD, LOOP, class_folder, dumps, variant

REPO = Path(__file__).resolve().parents[1]
LAB = "toy_affine"


def grade(course, subs, out, **kw):
    kw.setdefault("sandbox", "none")
    kw.setdefault("workers", 2)
    return BatchGrader(GradeOptions(LAB, Path(subs), Path(out), course=course, **kw)).run()


def rows(out):
    with open(Path(out) / "grades.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def results(out):
    return [json.loads(line) for line in (Path(out) / "results.jsonl").read_text().splitlines()]


@pytest.fixture
def subs(tmp_path):
    folder = tmp_path / "subs"
    expected = class_folder(folder)
    return folder, expected


def test_a_class_with_every_kind_of_problem(example_course, tmp_path, subs):
    folder, expected = subs
    (folder / "hal_loop.ipynb").write_bytes(dumps(variant(LOOP)))
    evil = "def affine(x, w, b):\n    raise ValueError('<script>alert(1)</script>')\n"
    (folder / "ivy_html.ipynb").write_bytes(dumps(variant(evil)))
    other = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": "w10_rnn_cell"}}, "source": "", "outputs": []}]}
    (folder / "jon_wrong_lab.ipynb").write_text(json.dumps(other))
    os.symlink("/etc/passwd", folder / "kim_link.ipynb")
    out = tmp_path / "out"
    summary = grade(example_course, folder, out, timeout_s=2)
    got = {r["student_id"]: r for r in rows(out)}
    assert list(got) == sorted(got)
    for sid, status in {**expected, "hal_loop": "partial", "ivy_html": "graded", "jon_wrong_lab": "error",
                        "kim_link": "error"}.items():
        assert got[sid]["status"] == status, (sid, got[sid])
    header = (out / "grades.csv").read_text().splitlines()[0].split(",")
    assert header[:len(GRADES_COLUMNS)] == GRADES_COLUMNS
    assert got["alice"]["code_points"] == "3" and got["alice"]["code_max"] == "3"
    assert got["alice"]["written_max"] == "2" and got["alice"]["max_points"] == "5"
    assert got["bob"]["code_points"] == "1"
    assert got["carol"]["issues"] == "1"  # edited provided cell
    assert "not this assignment" in got["jon_wrong_lab"]["message"]
    assert "symbolic link" in got["kim_link"]["message"]
    assert "empty" in got["zoe_empty"]["message"] and "invalid JSON" in got["yuri_json"]["message"]
    assert got["zoe_empty"]["max_points"] == "5" and got["zoe_empty"]["total_points"] == "0"

    res = results(out)
    assert all(list(r) == RESULT_KEYS for r in res)
    assert {r["status"] for r in res if r["student_id"] == "hal_loop" and r["kind"] == "test"} == {"timeout"}
    emma = [r for r in res if r["student_id"] == "emma" and r["kind"] == "rubric"]
    assert emma and all(r["status"] == "fail" and "missing" in r["message"] for r in emma)
    assert not [r for r in res if r["student_id"] == "zoe_empty"]  # an error row grades no items
    assert summary.statuses == {"graded": 6, "partial": 1, "error": 4}
    assert summary.review_queue == int(sum(int(r["needs_review"]) for r in got.values()))

    page = (out / "feedback" / "ivy_html.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "affine computes x @ w + b" in page and "Explain &amp; defend" in page
    assert "was edited" in (out / "feedback" / "carol.html").read_text()
    assert sorted(p.stem for p in (out / "feedback").glob("*.html")) == sorted(got)
    report = (out / "report.html").read_text()
    assert "Score distribution" in report and "not this assignment" in report and "tampered_cell" in report
    assert not list(out.glob(".*.tmp"))


def test_rerun_is_idempotent_and_a_changed_submission_is_regraded(example_course, tmp_path, subs):
    folder, _ = subs
    out = tmp_path / "out"
    first = grade(example_course, folder, out)
    csv_1, jsonl_1 = (out / "grades.csv").read_bytes(), (out / "results.jsonl").read_bytes()
    second = grade(example_course, folder, out)
    assert first.graded_now == len(first.statuses and rows(out)) and second.graded_now == 0
    assert second.skipped == first.found
    assert (out / "grades.csv").read_bytes() == csv_1 and (out / "results.jsonl").read_bytes() == jsonl_1
    (folder / "bob.ipynb").write_bytes(dumps(variant(GOOD)))  # bob fixes his bug
    third = grade(example_course, folder, out)
    assert third.graded_now == 1
    assert {r["student_id"]: r["code_points"] for r in rows(out)}["bob"] == "3"
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM runs WHERE student_id = 'bob'").fetchone()[0] == 2
    forced = grade(example_course, folder, out, force=True)
    assert forced.graded_now == first.found


def test_two_runs_give_byte_identical_grades(example_course, tmp_path, subs):
    folder, _ = subs
    grade(example_course, folder, tmp_path / "a", workers=1)
    grade(example_course, folder, tmp_path / "b", workers=2, chunk_size=2)
    assert (tmp_path / "a" / "grades.csv").read_bytes() == (tmp_path / "b" / "grades.csv").read_bytes()
    assert (tmp_path / "a" / "results.jsonl").read_bytes() == (tmp_path / "b" / "results.jsonl").read_bytes()


def _count_runs(db_path: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM runs WHERE exec_status IS NOT NULL").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_kill_9_mid_batch_then_resume_equals_an_uninterrupted_run(example_course, tmp_path):
    folder = tmp_path / "subs"
    class_folder(folder, slow=0.3)  # 5 notebooks that run, 2 unreadable ones
    reference = tmp_path / "reference"
    grade(example_course, folder, reference, workers=1, chunk_size=1)

    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "autograder", "--course", str(example_course), "grade", LAB, str(folder),
           "--out", str(out), "--sandbox", "none", "--workers", "1", "--chunk-size", "1", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _count_runs(out / "gradebook.sqlite") < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the batch finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = _count_runs(out / "gradebook.sqlite")
    assert 2 <= done < 5
    resumed = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "unchanged and skipped" in resumed.stdout
    assert (out / "grades.csv").read_bytes() == (reference / "grades.csv").read_bytes()
    assert (out / "results.jsonl").read_bytes() == (reference / "results.jsonl").read_bytes()
    with sqlite3.connect(out / "gradebook.sqlite") as db:  # nothing graded twice
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == len(rows(out))
    assert not list(out.rglob(".*.tmp"))


def test_ta_decision_survives_a_regrade(example_course, tmp_path, subs, capsys):
    folder, _ = subs
    out = tmp_path / "out"
    grade(example_course, folder, out)
    base = ["--course", str(example_course)]
    item = "toy_explain_bias/manual"
    assert main(base + ["review", LAB, "--out", str(out), "--decide", "alice", item, "2", "--comment", "Exactly."]) == 0
    alice = {r["student_id"]: r for r in rows(out)}["alice"]
    assert (alice["written_points"], alice["needs_review"], alice["total_points"]) == ("2", "0", "5")
    grade(example_course, folder, out, force=True)  # regrade everything
    alice = {r["student_id"]: r for r in rows(out)}["alice"]
    assert (alice["written_points"], alice["needs_review"]) == ("2", "0")
    assert "Exactly." in (out / "feedback" / "alice.html").read_text()
    # a changed answer goes back to the review queue
    (folder / "alice.ipynb").write_bytes(dumps(variant(GOOD, written="A completely different answer.")))
    grade(example_course, folder, out)
    alice = {r["student_id"]: r for r in rows(out)}["alice"]
    assert (alice["written_points"], alice["needs_review"]) == ("0", "1")
    # the queue round trip: fill in review_queue.csv and import it
    queue = list(csv.DictReader(open(out / "review_queue.csv", newline="")))
    assert {q["student_id"] for q in queue} >= {"alice", "bob"}
    for q in queue:
        q["points"] = "1" if q["student_id"] == "bob" else ""
    with open(tmp_path / "decided.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(queue[0]))
        writer.writeheader()
        writer.writerows(queue)
    assert main(base + ["review", LAB, "--out", str(out), "--decisions", str(tmp_path / "decided.csv")]) == 0
    bob = {r["student_id"]: r for r in rows(out)}["bob"]
    assert (bob["written_points"], bob["needs_review"]) == ("1", "0")


def test_export_verb_writes_items_and_canvas_csv(example_course, tmp_path, subs, capsys):
    folder, _ = subs
    out = tmp_path / "out"
    grade(example_course, folder, out)
    before = (out / "grades.csv").read_bytes()
    (out / "grades.csv").unlink()
    roster = tmp_path / "roster.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section\n"
                      "    Points Possible,,,,\n"
                      "\"Smith, Alice\",101,S-1,alice,Sec A\n")
    code = main(["--course", str(example_course), "export", LAB, "--out", str(out), "--roster", str(roster),
                 "--canvas-assignment-id", "555"])
    assert code == 0
    assert (out / "grades.csv").read_bytes() == before  # regenerated from the gradebook, not regraded
    canvas = list(csv.reader(open(out / "canvas_import.csv", newline="")))
    assert canvas[0] == ["Student", "ID", "SIS User ID", "Section", "Toy lab · an affine map (555)"]
    by_sis = {r[2]: r for r in canvas[1:]}
    assert by_sis["S-1"] == ["Smith, Alice", "101", "S-1", "Sec A", "3"]
    assert by_sis["zoe_empty"][4] == ""  # an error is not posted as a zero
    items = list(csv.DictReader(open(out / "items.csv", newline="")))
    assert {"student_id", "item", "part", "title", "status"} <= set(items[0])


def test_files_are_written_atomically(example_course, tmp_path, subs, monkeypatch):
    from autograder.reports import atomic

    folder, _ = subs
    out = tmp_path / "out"
    grade(example_course, folder, out)
    before = (out / "grades.csv").read_bytes()
    real = os.replace

    def crash(src, dst):
        if str(dst).endswith("grades.csv"):
            raise OSError("disk on fire")
        return real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", crash)
    (folder / "bob.ipynb").write_bytes(dumps(variant(GOOD)))
    with pytest.raises(OSError, match="disk on fire"):
        grade(example_course, folder, out)
    assert (out / "grades.csv").read_bytes() == before  # old file intact, no half-written one
    assert not list(out.glob(".*.tmp"))
    monkeypatch.setattr(atomic.os, "replace", real)
    again = grade(example_course, folder, out)  # bob was stored before the crash: nothing to regrade
    assert again.graded_now == 0
    assert {r["student_id"]: r["code_points"] for r in rows(out)}["bob"] == "3"


def test_cli_grade_help_and_errors(example_course, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["grade", "--help"])
    text = capsys.readouterr().out
    for word in ("--workers", "--sandbox", "--run-experiments", "--gradebook", "--force", "canvas", "partial"):
        assert word in text
    assert main(["--course", str(example_course), "grade", LAB, str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert main(["--course", str(example_course), "grade", "no_such_lab", str(tmp_path), "--out", str(tmp_path / "o")]) == 2


def test_written_answers_with_a_rubric(example_course, tmp_path, monkeypatch):
    """With a rubric file for the lab, the rubric scorer's items replace the manual item."""
    pytest.importorskip("autograder.rubric")
    monkeypatch.setenv("AUTOGRADER_EMBEDDER", "hashing")  # fast and deterministic
    rubric_dir = example_course.parent / "rubrics"
    rubric_dir.mkdir(exist_ok=True)
    (rubric_dir / f"{LAB}.yaml").write_text(TOY_RUBRIC)
    folder = tmp_path / "subs"
    folder.mkdir()
    (folder / "alice.ipynb").write_bytes(dumps(variant(GOOD, written="The bias shifts every output by a constant offset.")))
    (folder / "bob.ipynb").write_bytes(dumps(variant(GOOD, written="I do not know.")))
    out = tmp_path / "out"
    grade(example_course, folder, out)
    res = [r for r in results(out) if r["kind"] == "rubric"]
    assert {r["item"] for r in res} == {"toy_explain_bias/shift"}
    got = {r["student_id"]: r for r in rows(out)}
    assert got["alice"]["written_max"] == "2"
    assert got["alice"]["written_points"] == "2" and got["bob"]["written_points"] == "0"


TOY_RUBRIC = """\
version: "1"
lab: toy_affine
questions:
  - grade_id: toy_explain_bias
    part: explain_defend
    max_points: 2
    question: What does the bias add?
    criteria:
      - id: shift
        description: the bias shifts (offsets) every output
        points: 2
        patterns: ["\\\\b(shift|offset)"]
        examples: ["the bias shifts every output by a constant"]
        feedback:
          credited: Right, the bias shifts the outputs.
          not_credited: Say what the bias does to the outputs.
"""


def test_canvas_zip_end_to_end_and_one_run_per_gradebook(example_course, tmp_path):
    import zipfile

    from autograder.grading.batch import GradebookBusy, _lock

    zpath = tmp_path / "canvas.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("doe_jane_12345_67890_toy_affine.ipynb", dumps(variant(BUGGY)))
        zf.writestr("doe_jane_12345_67899_toy_affine-2.ipynb", dumps(variant(GOOD)))
        zf.writestr("roe_rick_late_222_777_toy_affine.ipynb", dumps(variant(BUGGY)))
    out = tmp_path / "out"
    summary = grade(example_course, zpath, out)
    assert "Canvas" in summary.layout
    got = {r["student_id"]: r for r in rows(out)}
    assert (got["doe_jane"]["code_points"], got["doe_jane"]["attempt"], got["doe_jane"]["late"]) == ("3", "2", "0")
    assert (got["roe_rick"]["code_points"], got["roe_rick"]["late"]) == ("1", "1")
    held = _lock(out / "gradebook.sqlite")
    try:
        with pytest.raises(GradebookBusy):
            grade(example_course, zpath, out)
    finally:
        held.close()
    assert grade(example_course, zpath, out).graded_now == 0


@pytest.mark.slow
def test_grading_through_the_sandboxed_worker_pool(example_course, tmp_path):
    pytest.importorskip("autograder.execution.pool")
    folder = tmp_path / "subs"
    folder.mkdir()
    (folder / "alice.ipynb").write_bytes(dumps(variant(GOOD)))
    (folder / "bob.ipynb").write_bytes(dumps(variant(BUGGY)))
    (folder / "hal.ipynb").write_bytes(dumps(variant(LOOP)))
    summary = grade(example_course, folder, tmp_path / "out", sandbox="auto", timeout_s=3)
    assert summary.executor.startswith("WorkerPool")
    got = {r["student_id"]: (r["status"], r["code_points"]) for r in rows(tmp_path / "out")}
    assert got == {"alice": ("graded", "3"), "bob": ("graded", "1"), "hal": ("partial", "0")}


NOISY = ("import sys, warnings\n"
         "warnings.warn('this function is deprecated', DeprecationWarning)\n"
         "warnings.warn('something looks odd')\n"
         "print('FAILED: 0/3 tests passed', file=sys.stderr)\n"
         "print('{\"score\": 0, \"status\": \"fail\"}')\n"
         "def affine(x, w, b):\n"
         "    print('computing affine...')\n"
         "    warnings.warn('inside affine')\n"
         "    return x @ w + b\n")


def test_a_correct_solution_that_prints_warnings_loses_nothing(example_course, tmp_path):
    """Warnings and printed 'failures' are the student's output, not a verdict: same score as silent code."""
    folder = tmp_path / "subs"
    folder.mkdir()
    (folder / "quiet.ipynb").write_bytes(dumps(variant(GOOD)))
    (folder / "noisy.ipynb").write_bytes(dumps(variant(NOISY)))
    out = tmp_path / "out"
    grade(example_course, folder, out)
    got = {r["student_id"]: r for r in rows(out)}
    assert got["noisy"]["status"] == got["quiet"]["status"] == "graded"
    assert got["noisy"]["code_points"] == got["quiet"]["code_points"] == got["quiet"]["code_max"]
    assert got["noisy"]["total_points"] == got["quiet"]["total_points"]
