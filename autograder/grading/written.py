"""Written answers -> rubric result rows: the one adapter between grading and the rubric scorer.

``WrittenGrader(lab, trusted).grade(answers, missing)`` returns one
:class:`~autograder.gradebook.ResultRow` per rubric item (``item`` =
``<grade_id>/<criterion>``, ``kind`` = ``rubric``). When the lab has a rubric
file and :mod:`autograder.rubric` provides ``load_rubric`` and ``RubricScorer``,
the scorer decides (credited / not credited / needs review, with a proposal);
otherwise every answer goes to the TA review queue as one ``<grade_id>/manual``
item worth the cell's points in the trusted release notebook, with 0 points
proposed. Nothing here reads points or flags from the submission.
"""
from __future__ import annotations

import hashlib
from typing import Any, Iterable

from autograder.authoring import cells as C
from autograder.gradebook import ResultRow
from autograder.labs import Lab

try:  # the rubric helper's API; without it written answers all go to review
    from autograder.rubric import RubricScorer, load_rubric
except ImportError:  # pragma: no cover - depends on the rubric package being there
    RubricScorer = None  # type: ignore[assignment,misc]
    load_rubric = None  # type: ignore[assignment]

MANUAL = "manual"
MISSING_ANSWER = "Your answer to this question is missing from the notebook (the cell was deleted or its metadata changed), so it could not be graded."


def answer_hash(text: str | None) -> str:
    """Identifies an answer for TA decisions: whitespace at the ends does not count."""
    if text is None:
        return "missing"
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:16]


def written_questions(trusted: dict[str, Any]) -> list[tuple[str, float]]:
    """(grade_id, points in the trusted release) of every written answer cell, in order."""
    out = []
    for _, cell in C.iter_graded_cells(trusted):
        if C.is_solution(cell) and cell.get("cell_type") == "markdown":
            try:
                points = float(C.nbgrader_meta(cell).get("points") or 0)
            except (TypeError, ValueError):
                points = 0.0
            out.append((C.grade_id(cell), points))  # type: ignore[arg-type]
    return out


class WrittenGrader:
    def __init__(self, lab: Lab, trusted: dict[str, Any]) -> None:
        self.lab = lab
        self.questions = written_questions(trusted)
        self.rubric = None
        self._scorer = None
        self.rubric_file_hash = ""
        path = lab.rubric_path
        if RubricScorer is not None and load_rubric is not None and path.exists():
            from autograder.rubric.recalibrate import calibration_override_path, load_calibration_override

            self.rubric = load_rubric(path)
            digest = hashlib.sha256(path.read_bytes())
            override = calibration_override_path(path)
            if override.exists():  # thresholds recalibrated from TA decisions (autograder review --recalibrate --apply)
                self.rubric = load_calibration_override(self.rubric, override)
                digest.update(override.read_bytes())
            self.rubric_file_hash = digest.hexdigest()[:16]
        if self.rubric is not None:
            self.version = f"rubric:{self.rubric.version}"
        else:
            self.version = "manual:" + hashlib.sha256(repr(self.questions).encode()).hexdigest()[:12]

    @property
    def scorer(self) -> Any:
        """Built on first use (loading the embedding model takes seconds)."""
        if self._scorer is None and self.rubric is not None:
            import contextlib
            import io
            import sys
            import warnings

            with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(io.StringIO()), \
                    contextlib.redirect_stderr(io.StringIO()):  # model loading prints progress bars
                warnings.simplefilter("always")
                self._scorer = RubricScorer(self.rubric)
            for w in caught:
                if issubclass(w.category, (RuntimeWarning, UserWarning)):
                    print(f"warning: {w.message}", file=sys.stderr)
        return self._scorer

    @property
    def fingerprint(self) -> str:
        """What changes automatic written results (part of the grader version)."""
        if self.rubric is None:
            return self.version
        from autograder.rubric.embed import DEFAULT_MODEL
        import os

        embedder = os.environ.get("AUTOGRADER_EMBEDDER", DEFAULT_MODEL).strip().lower() or DEFAULT_MODEL
        return f"{self.version}:{self.rubric_file_hash}:{embedder}"

    def part(self, gid: str) -> str:
        try:
            return self.lab.part_of(gid)
        except KeyError:
            return "explain_defend"

    def _rubric_question(self, gid: str) -> Any:
        if self.rubric is None or gid not in self.rubric.grade_ids:
            return None
        return self.rubric.question(gid)

    def max_points(self) -> float:
        """The lab's written maximum: the rubric's max_points, else the release's cell points."""
        total = 0.0
        for gid, points in self.questions:
            q = self._rubric_question(gid)
            total += float(q.max_points) if q is not None else points
        return total

    def grade(self, answers: dict[str, str], missing: Iterable[str]) -> list[ResultRow]:
        return self.grade_many([(answers, set(missing))])[0]

    def grade_many(self, subs: list[tuple[dict[str, str], set[str]]]) -> list[list[ResultRow]]:
        """Rows for several submissions at once (the scorer batches its embeddings)."""
        texts = [{gid: (None if gid in missing else answers.get(gid, "")) for gid, _ in self.questions}
                 for answers, missing in subs]
        scored_keys = [(i, gid) for i, t in enumerate(texts) for gid, _ in self.questions
                       if self._rubric_question(gid) is not None and t[gid] is not None]
        results = {}
        if scored_keys:
            scored = self.scorer.score_many([(gid, texts[i][gid]) for i, gid in scored_keys])
            results = dict(zip(scored_keys, scored))
        out = []
        for i, t in enumerate(texts):
            rows: list[ResultRow] = []
            for gid, points in self.questions:
                q = self._rubric_question(gid)
                if q is None:
                    rows.append(self._manual(gid, points, t[gid]))
                elif t[gid] is None:
                    rows += self._missing(q)
                else:
                    rows += self._rows(q, results[(i, gid)], t[gid])
            out.append(rows)
        return out

    def _manual(self, gid: str, points: float, text: str | None) -> ResultRow:
        row = ResultRow(item=f"{gid}/{MANUAL}", kind="rubric", grade_id=gid, part=self.part(gid),
                        title="Written answer (read by a TA)", points=0.0, max_points=points, status="needs_review",
                        message="A TA will read and grade this answer.", answer_hash=answer_hash(text),
                        detail={"decision": "needs_review", "proposal_points": 0.0, "question_max": points})
        if text is None:
            row.status, row.message, row.detail = "fail", MISSING_ANSWER, {"decision": "missing", "question_max": points}
        return row

    def _item_detail(self, q: Any, spec: Any) -> dict[str, Any]:
        detail: dict[str, Any] = {"item_kind": spec.kind, "question": q.question, "question_max": float(q.max_points),
                                  # both texts, so a TA decision shows the one for the decided outcome
                                  "feedback_met": spec.feedback.shown_if_met,
                                  "feedback_not_met": spec.feedback.shown_if_not_met}
        if spec.kind == "misconception":
            detail["min_points"] = float(min(spec.penalty, 0.0))
            if spec.cap is not None:
                detail["cap"] = float(spec.cap)
        return detail

    def _missing(self, q: Any) -> list[ResultRow]:
        rows = []
        for spec in q.items:
            detail = {**self._item_detail(q, spec), "decision": "missing", "met": False}
            status = "fail" if spec.kind == "criterion" else "credited"
            rows.append(ResultRow(item=f"{q.grade_id}/{spec.id}", kind="rubric", grade_id=q.grade_id,
                                  part=self.part(q.grade_id), title=spec.description, points=0.0,
                                  max_points=float(spec.max_points), status=status,
                                  message=MISSING_ANSWER if spec.kind == "criterion" else "",
                                  answer_hash=answer_hash(None), detail=detail))
        return rows

    def _rows(self, q: Any, result: Any, text: str) -> list[ResultRow]:
        from autograder.rubric.scorer import REVIEW_FEEDBACK

        rows = []
        for d in result.items:
            spec = q.item(d.item_id)
            message = d.feedback if d.decision != "needs_review" else f"{d.feedback} ({REVIEW_FEEDBACK})".strip()
            detail = {**self._item_detail(q, spec), "decision": d.decision, "reason": d.reason,
                      "proposal": d.proposal, "proposal_points": float(d.proposal_points), "met": bool(d.met),
                      "question_message": result.message, "flags": list(result.flags)}
            rows.append(ResultRow(item=f"{q.grade_id}/{d.item_id}", kind="rubric", grade_id=q.grade_id,
                                  part=self.part(q.grade_id), title=spec.description, points=float(d.points),
                                  max_points=float(d.max_points), status=d.status, message=message,
                                  answer_hash=answer_hash(text), detail=detail))
        return rows


def item_met(row: ResultRow) -> bool:
    """A misconception counts as present (for caps): the TA's decision, else the scorer's."""
    if "ta" in row.detail:
        return bool(row.detail["ta"].get("present", row.points < 0))
    return bool(row.detail.get("met"))


def question_total(items: list[ResultRow]) -> tuple[float, float]:
    """(points, max) of one question: criteria plus penalties, clamped to [0, max], capped by
    any present misconception's cap (the scorer's rule, re-applied after TA decisions)."""
    qmax = items[0].detail.get("question_max")
    qmax = float(qmax) if qmax is not None else sum(r.max_points for r in items)
    total = min(max(sum(r.points for r in items), 0.0), qmax)
    caps = [float(r.detail["cap"]) for r in items
            if r.detail.get("item_kind") == "misconception" and r.detail.get("cap") is not None and item_met(r)]
    if caps:
        total = min(total, min(caps))
    return round(total, 4), qmax


def written_total(rows: Iterable[ResultRow]) -> tuple[float, float]:
    """(points, max) over the rubric rows of one submission."""
    per_q: dict[str, list[ResultRow]] = {}
    for r in rows:
        if r.kind == "rubric":
            per_q.setdefault(r.grade_id, []).append(r)
    points = maximum = 0.0
    for items in per_q.values():
        p, m = question_total(items)
        points += p
        maximum += m
    return points, maximum
