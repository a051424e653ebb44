"""The gradebook: one SQLite file holding every submission, run, result and TA decision.

Schema (version in ``schema_version``):

* ``students``: one row per student id (display name and LMS ids when known);
* ``submissions``: one row per distinct notebook a student handed in
  (assignment, student, sha256 content hash, attempt, timestamp, source path);
* ``batches``: one row per ``grade`` command (when, grader version, counts);
* ``runs``: one row per grading of a submission (grader version, status, what
  the execution did, issues, totals); runs are never deleted, so the history of
  every regrade is kept;
* ``current_runs``: which run counts for (assignment, student): the latest;
* ``results``: one row per graded item of a run (a hidden test or a rubric criterion);
* ``ta_decisions``: a TA's decision on a rubric item (points, and for a
  misconception a ``verdict``: present / absent), append-only (triggers
  refuse UPDATE and DELETE), keyed by assignment, student, item, rubric version
  and answer hash; when reading, the latest matching decision wins.

Each submission is stored in one transaction (its run, its results and the
current-run pointer together), so a batch killed at any moment leaves only
whole submissions behind, and the next run of the same command grades exactly
the ones that are missing.
"""
from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS students (
    student_id   TEXT PRIMARY KEY,
    display_name TEXT,
    lms_user_id  TEXT,
    sis_user_id  TEXT,
    section      TEXT
);
CREATE TABLE IF NOT EXISTS submissions (
    submission_id INTEGER PRIMARY KEY AUTOINCREMENT,
    assignment    TEXT NOT NULL,
    student_id    TEXT NOT NULL REFERENCES students(student_id),
    content_hash  TEXT NOT NULL,
    attempt       INTEGER NOT NULL DEFAULT 0,
    submitted_at  TEXT,
    late          INTEGER NOT NULL DEFAULT 0,
    source_path   TEXT NOT NULL,
    layout        TEXT NOT NULL,
    size_bytes    INTEGER NOT NULL DEFAULT 0,
    first_seen    TEXT NOT NULL,
    UNIQUE (assignment, student_id, content_hash)
);
CREATE TABLE IF NOT EXISTS batches (
    batch_id       INTEGER PRIMARY KEY AUTOINCREMENT,
    assignment     TEXT NOT NULL,
    grader_version TEXT NOT NULL,
    started_at     TEXT NOT NULL,
    finished_at    TEXT,
    source         TEXT,
    executor       TEXT,
    workers        INTEGER,
    found          INTEGER,
    graded         INTEGER,
    skipped        INTEGER,
    seconds        REAL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id         INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_id       INTEGER REFERENCES batches(batch_id),
    assignment     TEXT NOT NULL,
    student_id     TEXT NOT NULL,
    submission_id  INTEGER NOT NULL REFERENCES submissions(submission_id),
    grader_version TEXT NOT NULL,
    rubric_version TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('graded', 'partial', 'error')),
    message        TEXT NOT NULL DEFAULT '',
    retry          INTEGER NOT NULL DEFAULT 0,
    exec_status    TEXT,
    exec_message   TEXT,
    sandbox        TEXT,
    wall_s         REAL,
    cpu_s          REAL,
    peak_rss_mb    REAL,
    issues_json    TEXT NOT NULL DEFAULT '[]',
    cells_json     TEXT NOT NULL DEFAULT '[]',
    answers_json   TEXT NOT NULL DEFAULT '{}',
    plots_json     TEXT NOT NULL DEFAULT '[]',
    output_tail    TEXT NOT NULL DEFAULT '',
    code_max       REAL NOT NULL DEFAULT 0,
    written_max    REAL NOT NULL DEFAULT 0,
    graded_at      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_student ON runs (assignment, student_id);
CREATE TABLE IF NOT EXISTS current_runs (
    assignment TEXT NOT NULL,
    student_id TEXT NOT NULL,
    run_id     INTEGER NOT NULL REFERENCES runs(run_id),
    PRIMARY KEY (assignment, student_id)
);
CREATE TABLE IF NOT EXISTS results (
    run_id      INTEGER NOT NULL REFERENCES runs(run_id),
    seq         INTEGER NOT NULL,
    item        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('test', 'rubric')),
    grade_id    TEXT NOT NULL,
    part        TEXT NOT NULL,
    title       TEXT NOT NULL DEFAULT '',
    points      REAL NOT NULL,
    max_points  REAL NOT NULL,
    status      TEXT NOT NULL,
    message     TEXT NOT NULL DEFAULT '',
    answer_hash TEXT,
    detail_json TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, seq)
);
CREATE TABLE IF NOT EXISTS ta_decisions (
    decision_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    assignment     TEXT NOT NULL,
    student_id     TEXT NOT NULL,
    item           TEXT NOT NULL,
    rubric_version TEXT NOT NULL,
    answer_hash    TEXT NOT NULL,
    points         REAL NOT NULL,
    comment        TEXT NOT NULL DEFAULT '',
    decided_by     TEXT NOT NULL DEFAULT '',
    decided_at     TEXT NOT NULL,
    verdict        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS decisions_by_key ON ta_decisions (assignment, student_id, item, rubric_version, answer_hash);
CREATE TRIGGER IF NOT EXISTS ta_decisions_no_update BEFORE UPDATE ON ta_decisions
    BEGIN SELECT RAISE(ABORT, 'ta_decisions is append-only: record a new decision instead'); END;
CREATE TRIGGER IF NOT EXISTS ta_decisions_no_delete BEFORE DELETE ON ta_decisions
    BEGIN SELECT RAISE(ABORT, 'ta_decisions is append-only: record a new decision instead'); END;
"""

EXEC_FAILED = ("timeout", "memory", "error")


class GradebookError(RuntimeError):
    pass


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


@dataclass
class ResultRow:
    item: str
    kind: str  # test | rubric
    grade_id: str
    part: str
    title: str
    points: float
    max_points: float
    status: str
    message: str
    answer_hash: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class SubmissionInfo:
    assignment: str
    student_id: str
    content_hash: str
    source_path: str
    layout: str
    attempt: int = 0
    submitted_at: str | None = None
    late: bool = False
    size_bytes: int = 0
    display_name: str | None = None
    lms_user_id: str | None = None


@dataclass
class RunRecord:
    status: str  # graded | partial | error
    message: str = ""
    grader_version: str = ""
    rubric_version: str = ""
    retry: bool = False  # an infrastructure failure: the next run grades it again
    exec_status: str | None = None
    exec_message: str | None = None
    sandbox: str | None = None
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    issues: list[dict[str, Any]] = field(default_factory=list)
    cells: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)  # written answers (grade_id -> text), for the TA
    plots: list[dict[str, Any]] = field(default_factory=list)  # feedback plot specs (autograder.reports.plots)
    output_tail: str = ""
    code_max: float = 0.0  # the lab's totals when this run was made (an error run has no results to sum)
    written_max: float = 0.0
    results: list[ResultRow] = field(default_factory=list)


@dataclass
class DecisionInput:
    """One TA decision to record (``Gradebook.record_decisions``); rubric version and
    answer hash default to those of the student's current result."""

    student_id: str
    item: str
    points: float
    comment: str = ""
    verdict: str = ""
    rubric_version: str | None = None
    answer_hash: str | None = None


@dataclass
class Decision:
    points: float
    comment: str
    decided_by: str
    decided_at: str
    decision_id: int
    verdict: str = ""  # misconceptions: "present" / "absent"; criteria: ""


@dataclass
class CurrentRun:
    """A student's current run with its results, TA decisions applied."""

    run_id: int
    assignment: str
    student_id: str
    status: str
    message: str
    grader_version: str
    rubric_version: str
    exec_status: str | None
    exec_message: str | None
    wall_s: float
    issues: list[dict[str, Any]]
    cells: list[dict[str, Any]]
    answers: dict[str, str]
    output_tail: str
    code_max: float
    written_max: float
    graded_at: str
    source_path: str
    content_hash: str
    attempt: int
    submitted_at: str | None
    late: bool
    display_name: str | None
    lms_user_id: str | None
    sis_user_id: str | None
    section: str | None
    results: list[ResultRow]
    plots: list[dict[str, Any]] = field(default_factory=list)


class Gradebook:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.path), isolation_level=None, timeout=30)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self._init_schema()

    # -- schema ------------------------------------------------------------------
    def _init_schema(self) -> None:
        with self.transaction():
            for statement in _statements(SCHEMA):
                self.db.execute(statement)
            # additive columns of later versions of schema 1 (older gradebooks get them empty)
            columns = {r["name"] for r in self.db.execute("PRAGMA table_info(runs)")}
            if "plots_json" not in columns:
                self.db.execute("ALTER TABLE runs ADD COLUMN plots_json TEXT NOT NULL DEFAULT '[]'")
            # a misconception's TA verdict (present/absent): a cap-only misconception has no points to say it with
            decision_columns = {r["name"] for r in self.db.execute("PRAGMA table_info(ta_decisions)")}
            if "verdict" not in decision_columns:
                self.db.execute("ALTER TABLE ta_decisions ADD COLUMN verdict TEXT NOT NULL DEFAULT ''")
            row = self.db.execute("SELECT version FROM schema_version").fetchone()
            if row is None:
                self.db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            elif row["version"] > SCHEMA_VERSION:
                raise GradebookError(f"{self.path} was written by a newer grader (schema {row['version']}, this one reads {SCHEMA_VERSION})")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Gradebook":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    class _Tx:
        def __init__(self, db: sqlite3.Connection) -> None:
            self.db = db

        def __enter__(self) -> sqlite3.Connection:
            self.db.execute("BEGIN IMMEDIATE")
            return self.db

        def __exit__(self, exc_type: Any, *rest: Any) -> None:
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")

    def transaction(self) -> "Gradebook._Tx":
        return Gradebook._Tx(self.db)

    # -- batches -------------------------------------------------------------------
    def begin_batch(self, assignment: str, grader_version: str, *, source: str, executor: str, workers: int) -> int:
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO batches (assignment, grader_version, started_at, source, executor, workers) VALUES (?, ?, ?, ?, ?, ?)",
                (assignment, grader_version, now_iso(), source, executor, workers))
            return int(cur.lastrowid)

    def finish_batch(self, batch_id: int, *, found: int, graded: int, skipped: int, seconds: float) -> None:
        with self.transaction() as db:
            db.execute("UPDATE batches SET finished_at = ?, found = ?, graded = ?, skipped = ?, seconds = ? WHERE batch_id = ?",
                       (now_iso(), found, graded, skipped, round(seconds, 3), batch_id))

    def last_batch(self, assignment: str) -> dict[str, Any] | None:
        """The latest finished batch that graded something (else the latest batch)."""
        row = self.db.execute(
            """SELECT * FROM batches WHERE assignment = ?
               ORDER BY (finished_at IS NOT NULL AND graded > 0) DESC, batch_id DESC LIMIT 1""", (assignment,)).fetchone()
        return dict(row) if row else None

    # -- resumability --------------------------------------------------------------
    def is_done(self, assignment: str, student_id: str, content_hash: str, grader_version: str) -> bool:
        """True when the student's current run graded exactly this content with this grader."""
        row = self.db.execute(
            """SELECT r.grader_version, r.retry, s.content_hash FROM current_runs c
               JOIN runs r ON r.run_id = c.run_id JOIN submissions s ON s.submission_id = r.submission_id
               WHERE c.assignment = ? AND c.student_id = ?""", (assignment, student_id)).fetchone()
        return bool(row) and row["content_hash"] == content_hash and row["grader_version"] == grader_version and not row["retry"]

    # -- storing one submission (one transaction) ------------------------------------
    def store(self, sub: SubmissionInfo, run: RunRecord, batch_id: int | None) -> int:
        with self.transaction() as db:
            db.execute(
                """INSERT INTO students (student_id, display_name, lms_user_id) VALUES (?, ?, ?)
                   ON CONFLICT (student_id) DO UPDATE SET
                     display_name = COALESCE(excluded.display_name, students.display_name),
                     lms_user_id = COALESCE(excluded.lms_user_id, students.lms_user_id)""",
                (sub.student_id, sub.display_name, sub.lms_user_id))
            db.execute(
                """INSERT INTO submissions (assignment, student_id, content_hash, attempt, submitted_at, late, source_path,
                                            layout, size_bytes, first_seen)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (assignment, student_id, content_hash) DO UPDATE SET
                     attempt = excluded.attempt, submitted_at = excluded.submitted_at, late = excluded.late,
                     source_path = excluded.source_path, layout = excluded.layout""",
                (sub.assignment, sub.student_id, sub.content_hash, sub.attempt, sub.submitted_at, int(sub.late),
                 sub.source_path, sub.layout, sub.size_bytes, now_iso()))
            sid_row = db.execute("SELECT submission_id FROM submissions WHERE assignment = ? AND student_id = ? AND content_hash = ?",
                                 (sub.assignment, sub.student_id, sub.content_hash)).fetchone()
            cur = db.execute(
                """INSERT INTO runs (batch_id, assignment, student_id, submission_id, grader_version, rubric_version, status,
                                     message, retry, exec_status, exec_message, sandbox, wall_s, cpu_s, peak_rss_mb,
                                     issues_json, cells_json, answers_json, plots_json, output_tail, code_max, written_max,
                                     graded_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (batch_id, sub.assignment, sub.student_id, sid_row["submission_id"], run.grader_version, run.rubric_version,
                 run.status, run.message, int(run.retry), run.exec_status, run.exec_message, run.sandbox, run.wall_s,
                 run.cpu_s, run.peak_rss_mb, _dumps(run.issues), _dumps(run.cells), _dumps(run.answers),
                 _dumps(run.plots), run.output_tail, run.code_max, run.written_max, now_iso()))
            run_id = int(cur.lastrowid)
            db.executemany(
                """INSERT INTO results (run_id, seq, item, kind, grade_id, part, title, points, max_points, status, message,
                                        answer_hash, detail_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [(run_id, seq, r.item, r.kind, r.grade_id, r.part, r.title, float(r.points), float(r.max_points), r.status,
                  r.message, r.answer_hash, _dumps(r.detail)) for seq, r in enumerate(run.results)])
            db.execute(
                """INSERT INTO current_runs (assignment, student_id, run_id) VALUES (?, ?, ?)
                   ON CONFLICT (assignment, student_id) DO UPDATE SET run_id = excluded.run_id""",
                (sub.assignment, sub.student_id, run_id))
            return run_id

    # -- TA decisions (append-only) ----------------------------------------------------
    def record_decision(self, assignment: str, student_id: str, item: str, points: float, *, comment: str = "",
                        decided_by: str = "", rubric_version: str | None = None, answer_hash: str | None = None,
                        verdict: str = "") -> int:
        """Record a TA decision on one rubric item of a student's current run. The rubric
        version and answer hash default to those of the current result, so the decision
        stops applying when the student's answer (or the rubric) changes."""
        return self.record_decisions(assignment, [DecisionInput(student_id, item, float(points), comment, verdict,
                                                                rubric_version, answer_hash)], decided_by=decided_by)[0]

    def record_decisions(self, assignment: str, entries: list["DecisionInput"], *, decided_by: str = "") -> list[int]:
        """Record several TA decisions at once (a review group): every entry is checked
        first, then all rows are appended in one transaction, so either all or none are
        recorded. Each row keeps its own answer's rubric version and hash."""
        rows = []
        for e in entries:
            current = self._current_result(assignment, e.student_id, e.item)
            if current is None:
                raise GradebookError(f"no current result {e.item!r} for {e.student_id} in {assignment}")
            if current["kind"] != "rubric":
                raise GradebookError(f"{e.item!r} is a hidden test, not a rubric item; TA decisions apply to rubric items")
            detail = json.loads(current["detail_json"] or "{}")
            low = float(detail.get("min_points", 0.0))
            if not low <= e.points <= current["max_points"]:
                raise GradebookError(f"{e.item!r} takes {low:g} to {current['max_points']:g} points; "
                                     f"{e.points:g} is out of range")
            if e.verdict not in ("", "present", "absent"):
                raise GradebookError(f"unknown verdict {e.verdict!r} (present or absent)")
            if e.verdict and detail.get("item_kind") != "misconception":
                raise GradebookError(f"{e.item!r} is a criterion: decide it with points, not {e.verdict!r}")
            rows.append((assignment, e.student_id, e.item, e.rubric_version or current["rubric_version"],
                         e.answer_hash or current["answer_hash"] or "", float(e.points), e.comment, decided_by,
                         now_iso(), e.verdict))
        ids = []
        with self.transaction() as db:
            for row in rows:
                cur = db.execute(
                    """INSERT INTO ta_decisions (assignment, student_id, item, rubric_version, answer_hash, points, comment,
                                                 decided_by, decided_at, verdict) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    row)
                ids.append(int(cur.lastrowid))
        return ids

    def _current_result(self, assignment: str, student_id: str, item: str) -> sqlite3.Row | None:
        return self.db.execute(
            """SELECT res.*, r.rubric_version FROM current_runs c JOIN runs r ON r.run_id = c.run_id
               JOIN results res ON res.run_id = c.run_id
               WHERE c.assignment = ? AND c.student_id = ? AND res.item = ?""", (assignment, student_id, item)).fetchone()

    def decisions(self, assignment: str) -> dict[tuple[str, str, str, str], Decision]:
        """(student, item, rubric_version, answer_hash) -> the latest decision."""
        out: dict[tuple[str, str, str, str], Decision] = {}
        for row in self.db.execute("SELECT * FROM ta_decisions WHERE assignment = ? ORDER BY decision_id", (assignment,)):
            out[(row["student_id"], row["item"], row["rubric_version"], row["answer_hash"])] = Decision(
                row["points"], row["comment"], row["decided_by"], row["decided_at"], row["decision_id"],
                row["verdict"] or "")
        return out

    def decided_answers(self, assignment: str, rubric_version: str) -> list[tuple[str, str, str, Decision]]:
        """(student, item, answer text, latest decision) of every TA decision under
        ``rubric_version`` whose answer text is still in the gradebook (any run of the
        student, not only the current one): the labelled data for recalibration."""
        texts: dict[tuple[str, str, str], str] = {}
        for row in self.db.execute(
                """SELECT r.student_id, res.item, res.grade_id, res.answer_hash, r.answers_json FROM runs r
                   JOIN results res ON res.run_id = r.run_id
                   WHERE r.assignment = ? AND r.rubric_version = ? AND res.kind = 'rubric'
                   ORDER BY r.run_id DESC""", (assignment, rubric_version)):
            key = (row["student_id"], row["item"], row["answer_hash"] or "")
            if key not in texts:
                answer = json.loads(row["answers_json"] or "{}").get(row["grade_id"])
                if answer is not None:
                    texts[key] = answer
        out = []
        for (student, item, version, ahash), decision in sorted(self.decisions(assignment).items()):
            if version == rubric_version and (student, item, ahash) in texts:
                out.append((student, item, texts[(student, item, ahash)], decision))
        return out

    # -- reading --------------------------------------------------------------------------
    def set_student_info(self, student_id: str, **info: str | None) -> None:
        allowed = {"display_name", "lms_user_id", "sis_user_id", "section"}
        cols = {k: v for k, v in info.items() if k in allowed and v}
        if not cols:
            return
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO students (student_id) VALUES (?)", (student_id,))
            db.execute(f"UPDATE students SET {', '.join(f'{k} = ?' for k in cols)} WHERE student_id = ?",
                       (*cols.values(), student_id))

    def assignments(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT assignment FROM current_runs ORDER BY assignment")]

    def current(self, assignment: str, *, apply_decisions: bool = True) -> list[CurrentRun]:
        """Every student's current run, sorted by student id, TA decisions applied on top."""
        decisions = self.decisions(assignment) if apply_decisions else {}
        rows = self.db.execute(
            """SELECT r.*, s.source_path, s.content_hash, s.attempt, s.submitted_at, s.late,
                      st.display_name, st.lms_user_id, st.sis_user_id, st.section
               FROM current_runs c JOIN runs r ON r.run_id = c.run_id
               JOIN submissions s ON s.submission_id = r.submission_id
               JOIN students st ON st.student_id = r.student_id
               WHERE c.assignment = ? ORDER BY r.student_id""", (assignment,)).fetchall()
        results: dict[int, list[ResultRow]] = {}
        for res in self.db.execute(
                """SELECT res.* FROM current_runs c JOIN results res ON res.run_id = c.run_id
                   WHERE c.assignment = ? ORDER BY res.run_id, res.seq""", (assignment,)):
            results.setdefault(res["run_id"], []).append(ResultRow(
                res["item"], res["kind"], res["grade_id"], res["part"], res["title"], res["points"], res["max_points"],
                res["status"], res["message"], res["answer_hash"], json.loads(res["detail_json"])))
        out = []
        for row in rows:
            items = results.get(row["run_id"], [])
            for item in items:
                if item.kind != "rubric":
                    continue
                decision = decisions.get((row["student_id"], item.item, row["rubric_version"], item.answer_hash or ""))
                if decision is not None:
                    apply_decision(item, decision)
            out.append(CurrentRun(
                row["run_id"], row["assignment"], row["student_id"], row["status"], row["message"], row["grader_version"],
                row["rubric_version"], row["exec_status"], row["exec_message"], row["wall_s"] or 0.0,
                json.loads(row["issues_json"]), json.loads(row["cells_json"]), json.loads(row["answers_json"]), row["output_tail"], row["code_max"], row["written_max"], row["graded_at"],
                row["source_path"], row["content_hash"], row["attempt"], row["submitted_at"], bool(row["late"]),
                row["display_name"], row["lms_user_id"], row["sis_user_id"], row["section"], items,
                json.loads(row["plots_json"] or "[]")))
        return out

    def history(self, assignment: str, student_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute(
            """SELECT r.run_id, r.batch_id, r.status, r.grader_version, r.graded_at, s.content_hash
               FROM runs r JOIN submissions s ON s.submission_id = r.submission_id
               WHERE r.assignment = ? AND r.student_id = ? ORDER BY r.run_id""", (assignment, student_id))]

    def count_runs(self, assignment: str | None = None) -> int:
        if assignment is None:
            return int(self.db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])
        return int(self.db.execute("SELECT COUNT(*) FROM runs WHERE assignment = ?", (assignment,)).fetchone()[0])


def apply_decision(item: ResultRow, decision: Decision) -> None:
    """A TA's points replace the automatic ones. For a criterion: full points credited,
    none fail, in between partial. For a misconception (0 or a negative penalty):
    present (fail) when the verdict says so or the points are a penalty, else absent
    (credited); a present misconception's cap applies (``ta.present``). The student
    sees the TA's comment, else the rubric's feedback for the decided outcome."""
    if item.detail.get("item_kind") == "misconception":
        low = float(item.detail.get("min_points", 0.0))
        points = max(low, min(float(decision.points), 0.0))
        met = decision.verdict == "present" or (decision.verdict != "absent" and points < 0)
        status = "fail" if met else "credited"
    else:
        points = max(0.0, min(float(decision.points), item.max_points))
        status = "credited" if points >= item.max_points else ("fail" if points <= 0 else "partial")
        met = status == "credited"
    item.detail = {**item.detail, "automatic": {"points": item.points, "status": item.status},
                   "ta": {"points": points, "by": decision.decided_by, "at": decision.decided_at, "present": met}}
    item.points = points
    item.status = status
    if decision.comment:
        item.message = decision.comment
    elif "feedback_met" in item.detail:  # the review note ("a TA will check") no longer applies
        item.message = str(item.detail["feedback_met" if met else "feedback_not_met"])
    elif item.detail.get("decision") == "needs_review":  # an answer read by a TA without a rubric
        item.message = "Graded by a TA."


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=True, default=str)


def _statements(script: str) -> Iterator[str]:
    """Split the schema script into statements (triggers contain inner semicolons)."""
    buf: list[str] = []
    for line in script.strip().splitlines():
        buf.append(line)
        text = "\n".join(buf).strip()
        if text.endswith(";") and (not text.upper().startswith("CREATE TRIGGER") or text.upper().endswith("END;")):
            yield text
            buf = []
    if buf and "\n".join(buf).strip():
        yield "\n".join(buf)
