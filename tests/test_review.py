"""The TA review workflow end to end on the toy lab with a small rubric: the grouped
queue, group and single decisions (append-only, keyed by answer hash), feedback and
grades after a decision, regrades, changed answers, and recalibration from decisions.

The toy rubric's calibration for the ``hashing`` embedder uses the widest band (0.5), so
every criterion without a pattern match goes to review: the queue is known in advance.
"""
from __future__ import annotations

import csv
import re
import sqlite3
from pathlib import Path

import pytest
import yaml

from autograder.cli import main
from autograder.grading.batch import BatchGrader, GradeOptions
from grading_helpers import GOOD, dumps, variant

LAB = "toy_affine"
SHIFT = "toy_explain_bias/shift"
ORIGIN = "toy_explain_bias/origin"
SCALES = "toy_explain_bias/bias_scales"

RUBRIC = """\
version: "t1"
lab: toy_affine
title: "Toy lab"
calibration:
  hashing: {threshold: 0.5, band: 0.5, margin: 0.03}
questions:
  - grade_id: toy_explain_bias
    part: explain_defend
    max_points: 2
    question: What does the bias b add?
    criteria:
      - id: shift
        points: 1
        description: The bias shifts every output by a constant.
        feedback:
          credited: Right - the bias shifts every output by a constant.
          not_credited: Say what the bias does to every output.
        patterns: ['shift', 'offset']
        examples: ['The bias shifts every output by the same constant.']
        counter_examples: ['The weights scale the input.']
      - id: origin
        points: 1
        description: Without a bias the map must pass through the origin.
        feedback:
          credited: Right - without a bias the map passes through the origin.
          not_credited: Say what happens at the origin without a bias.
        patterns: ['origin', '(?:away from|through) zero']
        examples: ['Without the bias the map has to go through the origin.']
        counter_examples: ['The bias is a learned vector.']
    misconceptions:
      - id: bias_scales
        cap: 1
        description: Claims the bias scales (multiplies) the output.
        feedback:
          present: The bias is added, it does not scale the output.
          absent: You did not confuse adding a bias with scaling.
        patterns: ['bias ... (?:scal|multipl)']
        unless_patterns: ['in my (?:run|experiment)']
        examples: ['The bias multiplies the output by a factor.']
        counter_examples: ['The bias is added to the output.']
"""

ANSWERS = {
    "alice": "The bias shifts every output by a constant, so the map can move away from the origin.",
    "bob": "The bias moves the output away from zero.",
    "carol": "The bias moves the output away from zero.",
    "dave": "the bias moves the output away from zero!",
    "erin": "Every output lands away from zero, even for an all-zero input vector.",
    "fay": "In my runs the bias scaled the output, and it also shifts it.",
    "gus": "The bias scales the output so it can leave the origin.",
}
GROUP_LINE = re.compile(r"\[(G[0-9a-f]{8})\] (\d+) answer\(s\)[^:]*: (.*)")


def grade(course: Path, subs: Path, out: Path, **kw):
    return BatchGrader(GradeOptions(LAB, subs, out, course=course, sandbox="none", workers=2, **kw)).run()


def grades(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "grades.csv", newline="") as fh:
        return {r["student_id"]: r for r in csv.DictReader(fh)}


def review(course: Path, out: Path, *args: str) -> int:
    return main(["--course", str(course), "review", LAB, "--out", str(out), *args])


def listed_groups(text: str) -> dict[str, list[str]]:
    """group id -> students, from the item section of ``item`` in the listing."""
    return {m.group(1): m.group(3).split(", ") for m in GROUP_LINE.finditer(text)}


def groups_of(text: str, item: str) -> dict[str, list[str]]:
    section = text.split(f"== {item} ", 1)[1].split("\n== ", 1)[0]
    return listed_groups(section)


def ta_rows(out: Path) -> list[tuple]:
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        return db.execute("SELECT student_id, item, rubric_version, answer_hash, points, verdict, comment "
                          "FROM ta_decisions ORDER BY decision_id").fetchall()


@pytest.fixture
def toy(example_course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A graded toy class with a rubric; returns (course.yaml, submissions folder, OUT)."""
    monkeypatch.setenv("AUTOGRADER_EMBEDDER", "hashing")  # the real model is measured by tests/rubric
    monkeypatch.setenv("AUTOGRADER_TA", "ta_kim")
    rubrics = example_course.parent / "rubrics"
    rubrics.mkdir()
    (rubrics / "toy_affine.yaml").write_text(RUBRIC)
    subs = tmp_path / "subs"
    subs.mkdir()
    for sid, text in ANSWERS.items():
        (subs / f"{sid}.ipynb").write_bytes(dumps(variant(GOOD, written=text)))
    out = tmp_path / "out"
    summary = grade(example_course, subs, out)
    assert summary.statuses == {"graded": len(ANSWERS)}
    return example_course, subs, out


def test_queue_is_grouped_with_stable_ids_and_a_group_decision_reaches_feedback(toy, capsys):
    course, subs, out = toy
    before = grades(out)
    assert before["alice"]["written_points"] == "2" and before["alice"]["needs_review"] == "0"
    assert before["bob"]["needs_review"] == "1"

    assert review(course, out) == 0
    listing = capsys.readouterr().out
    shift = groups_of(listing, SHIFT)
    same = [g for g, members in shift.items() if "bob" in members]
    assert len(same) == 1
    gid = same[0]
    assert sorted(shift[gid]) == ["bob", "carol", "dave"]  # identical after normalisation
    assert sorted(s for members in shift.values() for s in members) == ["bob", "carol", "dave", "erin"]
    assert "alice" not in listing.split("queue as CSV")[0].split("\n", 1)[1]  # nothing of hers waits
    assert "proposal:" in listing and "reason:" in listing and "answer (bob):" in listing
    # the same call lists the same ids
    assert review(course, out) == 0
    assert groups_of(capsys.readouterr().out, SHIFT) == shift

    assert review(course, out, "--group", gid, "--points", "1", "--comment", "Moving the output = shifting it.") == 0
    assert "recorded 3 decision(s)" in capsys.readouterr().out
    rows = ta_rows(out)
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [(s, SHIFT, "rubric:t1", 1.0) for s in ("bob", "carol", "dave")]
    assert rows[0][3] == rows[1][3] != rows[2][3]  # each row keyed by its own answer's hash
    after = grades(out)
    for sid in ("bob", "carol", "dave"):
        assert (after[sid]["written_points"], after[sid]["needs_review"]) == ("2", "0"), sid
    page = (out / "feedback" / "bob.html").read_text()
    assert "Moving the output = shifting it." in page and "decided by a TA" in page
    queue = list(csv.DictReader(open(out / "review_queue.csv", newline="")))
    assert not [q for q in queue if q["student_id"] in ("bob", "carol", "dave") and q["item"] == SHIFT]
    # a decided group is gone: its id no longer resolves, nothing is recorded twice
    assert review(course, out, "--group", gid, "--points", "0") == 2
    assert "no group" in capsys.readouterr().err
    assert len(ta_rows(out)) == 3

    # a regrade (forced) keeps the decisions: same rubric version, same answer hashes
    grade(course, subs, out, force=True)
    regraded = grades(out)
    for sid in ("bob", "carol", "dave"):
        assert (regraded[sid]["written_points"], regraded[sid]["needs_review"]) == ("2", "0"), sid
    assert "Moving the output = shifting it." in (out / "feedback" / "carol.html").read_text()

    # bob changes his answer: his decision stops applying, the others' stay
    (subs / "bob.ipynb").write_bytes(dumps(variant(GOOD, written="The bias moves every output up, away from zero.")))
    assert grade(course, subs, out).graded_now == 1
    changed = grades(out)
    assert changed["bob"]["needs_review"] == "1"
    assert (changed["carol"]["written_points"], changed["carol"]["needs_review"]) == ("2", "0")
    assert "Moving the output" not in (out / "feedback" / "bob.html").read_text()
    assert len(ta_rows(out)) == 3  # history kept


def test_decisions_are_append_only(toy):
    course, _, out = toy
    assert review(course, out, "--decide", "bob", SHIFT, "1") == 0
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("UPDATE ta_decisions SET points = 0")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("DELETE FROM ta_decisions")
    # a new decision is a new row; the latest wins
    assert review(course, out, "--decide", "bob", SHIFT, "0", "--comment", "Moving is not shifting here.") == 0
    assert [r[4] for r in ta_rows(out)] == [1.0, 0.0]
    bob = grades(out)["bob"]
    assert (bob["written_points"], bob["needs_review"]) == ("1", "0")
    # out of range and unknown items are refused without recording anything
    assert review(course, out, "--decide", "bob", SHIFT, "5") == 2
    assert review(course, out, "--decide", "bob", "toy_explain_bias/nope", "1") == 2
    assert review(course, out, "--decide", "bob", "toy_affine_fn::test_x", "1") == 2
    assert len(ta_rows(out)) == 2


def test_a_misconception_is_decided_present_or_absent(toy, capsys):
    course, _, out = toy
    fay = grades(out)["fay"]
    # the scorer saw the claim but "in my runs" sends it to a TA (proposal: present, cap 1 applied meanwhile)
    assert fay["needs_review"] != "0"
    assert review(course, out) == 0
    listing = capsys.readouterr().out
    assert f"== {SCALES}" in listing and "decide present / absent" in listing
    assert review(course, out, "--decide", "fay", SCALES, "absent") == 0
    assert review(course, out, "--decide", "fay", ORIGIN, "0") == 0
    fay = grades(out)["fay"]
    assert (fay["written_points"], fay["needs_review"]) == ("1", "0")  # shift credited, origin not, no cap
    assert "You did not confuse adding a bias with scaling." in (out / "feedback" / "fay.html").read_text()
    # the TA changes their mind: present caps the question at 1 even though shift + origin would give 2
    assert review(course, out, "--decide", "fay", ORIGIN, "1") == 0
    assert grades(out)["fay"]["written_points"] == "2"
    assert review(course, out, "--decide", "fay", SCALES, "present") == 0
    assert grades(out)["fay"]["written_points"] == "1"
    page = (out / "feedback" / "fay.html").read_text()
    assert "present" in page and "The bias is added, it does not scale the output." in page
    assert [r[5] for r in ta_rows(out) if r[1] == SCALES] == ["absent", "present"]
    # a criterion takes points, a misconception present/absent
    assert review(course, out, "--decide", "fay", SHIFT, "present") == 2
    assert review(course, out, "--decide", "fay", SCALES, "maybe") == 2


def test_the_filled_in_queue_csv_is_imported(toy, tmp_path, capsys):
    course, _, out = toy
    queue = list(csv.DictReader(open(out / "review_queue.csv", newline="")))
    assert {q["student_id"] for q in queue} == {"bob", "carol", "dave", "erin", "fay"}
    for q in queue:
        q["points"] = {("erin", SHIFT): "1", ("fay", SCALES): "present", ("dave", SHIFT): "x"}.get(
            (q["student_id"], q["item"]), "")
    filled = tmp_path / "filled.csv"
    with open(filled, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(queue[0]))
        writer.writeheader()
        writer.writerows(queue)
    assert review(course, out, "--decisions", str(filled)) == 1  # one bad row
    captured = capsys.readouterr()
    assert "recorded 2 decision(s)" in captured.out and "must be a number" in captured.err
    assert sorted((r[0], r[1], r[5]) for r in ta_rows(out)) == [("erin", SHIFT, ""), ("fay", SCALES, "present")]


def test_recalibration_report_refusal_and_apply(toy, capsys):
    course, subs, out = toy
    override = course.parent / "rubrics" / "toy_affine.calibration.yaml"
    # too few decisions: a clear refusal, nothing written
    assert review(course, out, "--recalibrate") == 2
    err = capsys.readouterr().err
    assert "at least 8 TA decisions" in err and "there are none" in err

    # the TA credits "moves the output" as a shift (similarity 0.44 to the example, proposal:
    # not credited), not erin's answer (0.23), and agrees with alice's automatic credit
    assert review(course, out) == 0
    shift = groups_of(capsys.readouterr().out, SHIFT)
    gid = next(g for g, members in shift.items() if "bob" in members)
    assert review(course, out, "--group", gid, "--points", "1") == 0
    assert review(course, out, "--decide", "erin", SHIFT, "0") == 0
    assert review(course, out, "--decide", "alice", SHIFT, "1") == 0
    capsys.readouterr()
    assert review(course, out, "--recalibrate") == 2
    assert f"{SHIFT}, has 5" in capsys.readouterr().err

    assert review(course, out, "--recalibrate", "--min-decisions", "4") == 0
    report = capsys.readouterr().out
    assert "toy_explain_bias: 5 TA decision(s)" in report
    line = next(ln for ln in report.splitlines() if ln.strip().startswith("shift "))
    old_t, new_t, old_b, new_b = (float(x) for x in re.findall(r"(-?\d\.\d\d) -> (-?\d\.\d\d)", line)[0]
                                  + re.findall(r"(-?\d\.\d\d) -> (-?\d\.\d\d)", line)[1])
    assert (old_t, old_b, new_b) == (0.5, 0.5, 0.0) and 0.23 < new_t <= 0.45
    assert "80.0% ->   0.0%" in line and "40.0% -> 100.0%" in line  # review share, proposal agreement
    assert "nothing written" in report and not override.exists()

    decisions_before = ta_rows(out)
    assert review(course, out, "--recalibrate", "--min-decisions", "4", "--apply") == 0
    assert "wrote new thresholds for 1 item(s)" in capsys.readouterr().out
    data = yaml.safe_load(override.read_text())
    assert data["rubric_version"] == "t1"
    assert data["questions"]["toy_explain_bias"]["shift"]["hashing"] == {"threshold": new_t, "band": 0.0,
                                                                         "margin": 0.03}
    assert ta_rows(out) == decisions_before  # history untouched

    # the next grade run regrades with the new thresholds (the override is part of the grader
    # version); the answers that were in review for `shift` are now decided automatically the
    # way the TA decided them, and the TA decisions still apply
    assert grade(course, subs, out).graded_now == len(ANSWERS)
    queue = list(csv.DictReader(open(out / "review_queue.csv", newline="")))
    assert not [q for q in queue if q["item"] == SHIFT]
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        auto = dict(db.execute(
            """SELECT r.student_id, res.status FROM current_runs c JOIN runs r ON r.run_id = c.run_id
               JOIN results res ON res.run_id = r.run_id WHERE res.item = ?""", (SHIFT,)).fetchall())
    assert (auto["bob"], auto["carol"], auto["dave"], auto["erin"]) == ("credited",) * 3 + ("fail",)
    after = grades(out)
    assert [after[s]["written_points"] for s in ("bob", "carol", "dave", "erin")] == ["2", "2", "2", "1"]
    assert ta_rows(out) == decisions_before


def test_without_a_rubric_whole_answers_are_grouped_and_decided(example_course, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AUTOGRADER_EMBEDDER", "hashing")
    subs = tmp_path / "subs"
    subs.mkdir()
    texts = {"ann": "The bias moves the output.", "ben": "The bias moves the output.",
             "cat": "A bias lets the affine map miss the origin, unlike a purely linear map."}
    for sid, text in texts.items():
        (subs / f"{sid}.ipynb").write_bytes(dumps(variant(GOOD, written=text)))
    out = tmp_path / "out"
    grade(example_course, subs, out)
    assert review(example_course, out) == 0
    groups = groups_of(capsys.readouterr().out, "toy_explain_bias/manual")
    assert sorted(sorted(m) for m in groups.values()) == [["ann", "ben"], ["cat"]]
    gid = next(g for g, m in groups.items() if "ann" in m)
    assert review(example_course, out, "--group", gid, "--points", "1.5") == 0
    rows = grades(out)
    assert [rows[s]["written_points"] for s in ("ann", "ben", "cat")] == ["1.5", "1.5", "0"]
    assert "Graded by a TA." in (out / "feedback" / "ann.html").read_text()


def test_review_without_a_gradebook_or_with_bad_options(example_course, tmp_path, capsys):
    out = tmp_path / "nothing"
    assert review(example_course, out) == 2
    assert "grade first" in capsys.readouterr().err
    out.mkdir()
    (out / "gradebook.sqlite").touch()
    assert review(example_course, out, "--group", "G00000000") == 2
    assert "--group needs --points" in capsys.readouterr().err
    assert review(example_course, out, "--points", "1") == 2
    assert review(example_course, out, "--apply") == 2
