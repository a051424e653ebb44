"""The gradebook: schema, one transaction per submission, history, append-only TA decisions."""
from __future__ import annotations

import sqlite3

import pytest

from autograder.gradebook import SCHEMA_VERSION, Gradebook, GradebookError, ResultRow, RunRecord, SubmissionInfo


def _sub(sid="alice", content="h1"):
    return SubmissionInfo("lab", sid, content, f"{sid}.ipynb", "folder", size_bytes=10)


def _run(points=1.0, answer="a1", status="graded", version="v1"):
    return RunRecord(status=status, grader_version=version, rubric_version="rubric:1", code_max=2, written_max=2, results=[
        ResultRow("test_x", "test", "cell_x", "build", "x works", points, 2.0, "pass" if points else "fail", ""),
        ResultRow("q1/crit", "rubric", "q1", "explain_defend", "names the cause", 0.0, 2.0, "needs_review",
                  "A TA will confirm.", answer, {"item_kind": "criterion", "question_max": 2.0}),
    ])


@pytest.fixture
def gb(tmp_path):
    with Gradebook(tmp_path / "gb.sqlite") as book:
        yield book


def test_schema_has_a_version_and_the_tables(gb):
    assert gb.db.execute("SELECT version FROM schema_version").fetchone()[0] == SCHEMA_VERSION
    tables = {r[0] for r in gb.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"students", "submissions", "runs", "results", "ta_decisions", "batches", "current_runs"} <= tables


def test_reopening_keeps_data_and_refuses_a_newer_schema(tmp_path):
    path = tmp_path / "gb.sqlite"
    with Gradebook(path) as gb:
        gb.store(_sub(), _run(), None)
    with Gradebook(path) as gb:
        assert [r.student_id for r in gb.current("lab")] == ["alice"]
        gb.db.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(GradebookError, match="newer grader"):
        Gradebook(path)


def test_regrade_keeps_history_and_replaces_current(gb):
    gb.store(_sub(content="h1"), _run(points=0.0), None)
    assert gb.is_done("lab", "alice", "h1", "v1") and not gb.is_done("lab", "alice", "h2", "v1")
    assert not gb.is_done("lab", "alice", "h1", "v2")
    gb.store(_sub(content="h2"), _run(points=2.0), None)
    (current,) = gb.current("lab")
    assert current.content_hash == "h2" and current.results[0].points == 2.0
    assert [h["content_hash"] for h in gb.history("lab", "alice")] == ["h1", "h2"]
    assert gb.count_runs("lab") == 2


def test_a_failed_store_leaves_nothing_behind(gb):
    bad = _run()
    bad.results.append(ResultRow("x", "not-a-kind", "g", "build", "", 0, 0, "pass", ""))  # violates a CHECK
    with pytest.raises(sqlite3.IntegrityError):
        gb.store(_sub(), bad, None)
    assert gb.count_runs() == 0
    assert gb.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0


def test_retry_runs_are_not_done(gb):
    run = RunRecord(status="error", message="sandbox down", grader_version="v1", rubric_version="r", retry=True)
    gb.store(_sub(), run, None)
    assert not gb.is_done("lab", "alice", "h1", "v1")


def test_ta_decisions_are_append_only_and_latest_wins(gb):
    gb.store(_sub(), _run(), None)
    gb.record_decision("lab", "alice", "q1/crit", 1.0, comment="half right", decided_by="ta1")
    gb.record_decision("lab", "alice", "q1/crit", 2.0, decided_by="ta2")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        gb.db.execute("UPDATE ta_decisions SET points = 0")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        gb.db.execute("DELETE FROM ta_decisions")
    (current,) = gb.current("lab")
    item = current.results[1]
    assert (item.points, item.status, item.detail["ta"]["by"]) == (2.0, "credited", "ta2")
    assert gb.db.execute("SELECT COUNT(*) FROM ta_decisions").fetchone()[0] == 2


def test_ta_decision_follows_the_answer_hash(gb):
    gb.store(_sub(content="h1"), _run(answer="a1"), None)
    gb.record_decision("lab", "alice", "q1/crit", 1.0)
    gb.store(_sub(content="h1"), _run(answer="a1", version="v2"), None)  # regrade, same answer
    assert gb.current("lab")[0].results[1].status == "partial"
    gb.store(_sub(content="h2"), _run(answer="a2"), None)  # the answer changed: back to review
    assert gb.current("lab")[0].results[1].status == "needs_review"
    gb.store(_sub(content="h1"), _run(answer="a1"), None)  # back to the old answer: the decision applies again
    assert gb.current("lab")[0].results[1].points == 1.0


def test_decisions_are_checked(gb):
    gb.store(_sub(), _run(), None)
    with pytest.raises(GradebookError, match="out of range"):
        gb.record_decision("lab", "alice", "q1/crit", 5)
    with pytest.raises(GradebookError, match="hidden test"):
        gb.record_decision("lab", "alice", "test_x", 1)
    with pytest.raises(GradebookError, match="no current result"):
        gb.record_decision("lab", "bob", "q1/crit", 1)


def test_misconception_decisions():
    from autograder.gradebook.store import Decision, apply_decision

    row = ResultRow("q/mis", "rubric", "q", "explain_defend", "", -1.0, 0.0, "fail", "", "a",
                    {"item_kind": "misconception", "min_points": -1.0, "cap": 1.0, "met": True})
    apply_decision(row, Decision(0.0, "", "ta", "now", 1))
    assert (row.points, row.status) == (0.0, "credited")
