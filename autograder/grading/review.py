"""TA review of written answers: the grouped queue, decisions (append-only), recalibration.

The queue is every rubric item of a current run whose status is ``needs_review``
(the scorer was unsure, or no rubric exists). ``review_groups`` groups it per
question and rubric item, answers grouped by similarity
(:func:`autograder.rubric.group_similar`, the rubric's embedding model), so a TA
decides a group of equivalent answers at once. A group's id is derived from its
item and its sorted (student, answer hash) pairs: it is the same on every call
while nothing changed, and it disappears when a member's answer changes or is
decided, so a decision can never land on answers the TA did not see.

Every decision is one append-only row in the gradebook keyed by the answer's
rubric version and hash (``Gradebook.record_decisions``): it survives regrades
while the answer is unchanged and stops applying when it changes. The
filled-in ``OUT/review_queue.csv`` can still be imported (``import_decisions``).

``recalibrate_from_gradebook`` turns the TA decisions recorded under the current
rubric version into labelled answers and asks
:func:`autograder.rubric.recalibrate` which thresholds would have agreed best
with them; ``--apply`` writes them to the per-course override file beside the
rubric (see :mod:`autograder.rubric.recalibrate`), never touching the decisions.
"""
from __future__ import annotations

import csv
import hashlib
import textwrap
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from autograder.gradebook import Gradebook, GradebookError, ResultRow
from autograder.gradebook.store import DecisionInput
from autograder.reports.model import fmt_points

PRESENT_WORDS = {"present", "yes", "triggered", "true"}
ABSENT_WORDS = {"absent", "no", "not_triggered", "false"}
DEFAULT_SIMILARITY = 0.9
MIN_DECISIONS = 8


@dataclass(frozen=True)
class QueueEntry:
    """One rubric item of one student's current run that waits for a TA."""

    student_id: str
    item: str            # <grade_id>/<item_id>
    grade_id: str
    title: str
    kind: str            # criterion | misconception | manual
    proposal: str        # the scorer's proposal (credited, not_credited, triggered, ...)
    proposed_points: float
    max_points: float
    min_points: float
    reason: str
    answer: str
    answer_hash: str


@dataclass(frozen=True)
class ReviewGroup:
    group_id: str
    item: str
    members: tuple[QueueEntry, ...]
    representative: QueueEntry
    min_similarity: float

    def proposals(self) -> Counter[str]:
        return Counter(m.proposal for m in self.members)


def _entry(student_id: str, row: ResultRow, answer: str) -> QueueEntry:
    d = row.detail
    kind = str(d.get("item_kind") or ("manual" if row.item.endswith("/manual") else "criterion"))
    return QueueEntry(student_id, row.item, row.grade_id, row.title, kind, str(d.get("proposal") or "none"),
                      float(d.get("proposal_points", row.points)), float(row.max_points),
                      float(d.get("min_points", 0.0)), str(d.get("reason") or ""), answer, row.answer_hash or "")


def review_queue(gb: Gradebook, assignment: str) -> list[QueueEntry]:
    """Every item waiting for a TA, TA decisions applied (decided items are not in it)."""
    out = []
    for run in gb.current(assignment):
        for row in run.results:
            if row.kind == "rubric" and row.status == "needs_review":
                out.append(_entry(run.student_id, row, run.answers.get(row.grade_id, "")))
    return out


def group_id(item: str, members: Sequence[QueueEntry]) -> str:
    """Stable id: the item and the sorted (student, answer hash) pairs of the members."""
    key = item + "\n" + "\n".join(sorted(f"{m.student_id}:{m.answer_hash}" for m in members))
    return "G" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]


def review_groups(entries: Sequence[QueueEntry], *, embedder: Any = None,
                  similarity: float = DEFAULT_SIMILARITY) -> list[ReviewGroup]:
    """The queue grouped per rubric item (in queue order of first appearance), answers
    grouped by similarity inside each item, largest group first. Deterministic: the
    answers of an item are clustered in student-id order."""
    from autograder.rubric.grouping import group_similar

    by_item: dict[str, list[QueueEntry]] = {}
    for e in entries:
        by_item.setdefault(e.item, []).append(e)
    if not by_item:
        return []
    if embedder is None:
        from autograder.rubric.embed import default_embedder

        embedder = default_embedder()
    out = []
    for item, members in by_item.items():
        members = sorted(members, key=lambda m: m.student_id)
        index = {m.student_id: m for m in members}
        for g in group_similar([(m.student_id, m.answer) for m in members], threshold=similarity, embedder=embedder):
            ms = tuple(index[k] for k in g.keys)  # type: ignore[index]
            out.append(ReviewGroup(group_id(item, ms), item, ms, index[g.representative],  # type: ignore[index]
                                   g.min_similarity))
    return out


def _short(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[:width - 3].rstrip() + "..."


def _proposal_text(e: QueueEntry) -> str:
    if e.kind == "misconception":
        return "present" if e.proposal == "triggered" else "absent"
    if e.kind == "manual":
        return f"none yet (0 / {fmt_points(e.max_points)})"
    return f"{e.proposal.replace('_', ' ')} ({fmt_points(e.proposed_points)} / {fmt_points(e.max_points)})"


def format_groups(groups: Sequence[ReviewGroup], *, assignment: str, out: Path, answer_width: int = 400) -> str:
    """The grouped queue as plain text for the terminal."""
    n_items = sum(len(g.members) for g in groups)
    lines = [f"{assignment}: {n_items} written item(s) waiting for review in {len(groups)} group(s)"]
    current = None
    for g in groups:
        r = g.representative
        if g.item != current:
            current = g.item
            what = {"misconception": "misconception: decide present / absent",
                    "manual": f"whole answer, 0 to {fmt_points(r.max_points)} points"}.get(
                r.kind, f"criterion, 0 to {fmt_points(r.max_points)} points")
            lines += ["", f"== {g.item}  ({what})", f"   {r.title}"]
        props = g.proposals()
        mixed = "" if len(props) == 1 else "  [proposals differ: " + ", ".join(
            f"{k} x{v}" for k, v in sorted(props.items())) + "]"
        sim = f", similarity >= {g.min_similarity:.2f}" if len(g.members) > 1 else ""
        lines.append(f"  [{g.group_id}] {len(g.members)} answer(s){sim}: "
                     + ", ".join(m.student_id for m in g.members))
        lines.append(f"      proposal: {_proposal_text(r)}{mixed}")
        if r.reason:
            lines += textwrap.wrap(f"reason: {r.reason}", 100, initial_indent="      ", subsequent_indent="        ")
        lines += textwrap.wrap(f"answer ({r.student_id}): {_short(r.answer, answer_width) or '(empty)'}", 100,
                               initial_indent="      ", subsequent_indent="        ")
    if groups:
        g = groups[0]
        example = "present" if g.representative.kind == "misconception" else fmt_points(g.representative.max_points)
        lines += ["", "decide a whole group (one decision per answer, shown to each student with the comment):",
                  f"  autograder review {assignment} --out {out} --group {g.group_id} --points {example} "
                  f"--comment \"...\"",
                  f"or one answer: autograder review {assignment} --out {out} --decide STUDENT ITEM POINTS",
                  f"or fill in {out / 'review_queue.csv'} and import it with --decisions"]
    return "\n".join(lines)


def parse_decision(value: str | float, entry_kind: str, min_points: float = 0.0) -> tuple[float, str]:
    """A TA's answer -> (points, verdict). Criteria take points; misconceptions take
    ``present`` / ``absent`` (or points: a penalty means present, 0 absent), since a
    misconception that only caps the total has no points to express 'present'."""
    raw = str(value).strip().lower()
    if entry_kind == "misconception":
        if raw in PRESENT_WORDS:
            return float(min_points), "present"
        if raw in ABSENT_WORDS:
            return 0.0, "absent"
        try:
            points = float(raw)
        except ValueError:
            raise ValueError(f"a misconception takes 'present' or 'absent' (or its penalty), not {value!r}") from None
        return points, ("present" if points < 0 else "absent")
    try:
        return float(raw), ""
    except ValueError:
        raise ValueError(f"points must be a number, not {value!r}") from None


def _kinds(gb: Gradebook, assignment: str) -> dict[tuple[str, str], tuple[str, float]]:
    """(student, item) -> (item kind, min points) for every current rubric item."""
    out = {}
    for run in gb.current(assignment):
        for row in run.results:
            if row.kind == "rubric":
                out[(run.student_id, row.item)] = (str(row.detail.get("item_kind") or "criterion"),
                                                   float(row.detail.get("min_points", 0.0)))
    return out


def decide_one(gb: Gradebook, assignment: str, student_id: str, item: str, value: str, *, comment: str = "",
               decided_by: str = "") -> tuple[float, str]:
    """Record one TA decision; returns (points, verdict)."""
    kind, low = _kinds(gb, assignment).get((student_id, item), ("criterion", 0.0))
    points, verdict = parse_decision(value, kind, low)
    gb.record_decisions(assignment, [DecisionInput(student_id, item, points, comment, verdict)], decided_by=decided_by)
    return points, verdict


def decide_group(gb: Gradebook, assignment: str, group: ReviewGroup, value: str, *, comment: str = "",
                 decided_by: str = "") -> int:
    """One append-only decision per member, each keyed by its own answer hash, all in one
    transaction. Returns the number recorded."""
    r = group.representative
    points, verdict = parse_decision(value, r.kind, r.min_points)
    entries = [DecisionInput(m.student_id, m.item, points, comment, verdict, answer_hash=m.answer_hash)
               for m in group.members]
    return len(gb.record_decisions(assignment, entries, decided_by=decided_by))


def find_group(groups: Sequence[ReviewGroup], gid: str) -> ReviewGroup:
    for g in groups:
        if g.group_id.lower() == gid.strip().lower():
            return g
    raise GradebookError(f"no group {gid!r} in the current review queue (it was decided, or an answer in it "
                         "changed since it was listed): list the queue again")


@dataclass
class ImportResult:
    recorded: int
    skipped_blank: int
    problems: list[str]


def import_decisions(gb: Gradebook, assignment: str, path: Path, *, decided_by: str = "") -> ImportResult:
    """Record every row of a filled-in review_queue.csv whose ``points`` is set (a
    misconception row takes ``present`` / ``absent``)."""
    recorded = blank = 0
    problems: list[str] = []
    kinds = _kinds(gb, assignment)
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = {"student_id", "item", "points"} - set(reader.fieldnames or [])
        if missing:
            raise GradebookError(f"{path}: missing column(s) {sorted(missing)}; start from OUT/review_queue.csv")
        for line, row in enumerate(reader, start=2):
            raw = (row.get("points") or "").strip()
            if not raw:
                blank += 1
                continue
            student, item = row["student_id"].strip(), row["item"].strip()
            kind, low = kinds.get((student, item), ("criterion", 0.0))
            try:
                points, verdict = parse_decision(raw, kind, low)
                gb.record_decisions(assignment, [DecisionInput(student, item, points,
                                                               (row.get("comment") or "").strip(), verdict)],
                                    decided_by=decided_by)
                recorded += 1
            except ValueError as exc:
                problems.append(f"line {line}: {exc}")
            except GradebookError as exc:
                problems.append(f"line {line}: {exc}")
    return ImportResult(recorded, blank, problems)


# --------------------------------------------------------------------------- recalibration


@dataclass
class Recalibration:
    report: Any                      # autograder.rubric.recalibrate.RecalibrationReport
    rubric: Any                      # the rubric as the grader reads it (override applied)
    per_question: dict[str, int]     # TA decisions used per question
    override_path: Path


class NotEnoughDecisions(GradebookError):
    pass


def ta_labels(gb: Gradebook, assignment: str, rubric: Any) -> list[Any]:
    """The TA decisions under the rubric's current version as labelled answers
    (:class:`autograder.rubric.TADecision`). A criterion counts as met when the TA gave
    at least half its points; a misconception when the TA said present."""
    from autograder.rubric.recalibrate import TADecision

    out = []
    for _student, item, text, decision in gb.decided_answers(assignment, f"rubric:{rubric.version}"):
        gid, _, iid = item.partition("/")
        try:
            spec = rubric.question(gid).item(iid)
        except KeyError:
            continue  # a manual item, or one the rubric no longer has
        if spec.kind == "misconception":
            met = decision.verdict == "present" or (decision.verdict != "absent" and decision.points < 0)
        else:
            met = decision.points >= spec.points / 2
        out.append(TADecision(gid, iid, text, met))
    return out


def recalibrate_from_gradebook(gb: Gradebook, lab: Any, *, min_decisions: int = MIN_DECISIONS,
                               embedder: Any = None) -> Recalibration:
    """Thresholds that would have agreed best with the TA decisions, per rubric item with
    at least ``min_decisions`` decisions. Raises :class:`NotEnoughDecisions` when no
    item has that many (or the lab has no rubric)."""
    from autograder.rubric import RubricScorer, load_rubric
    from autograder.rubric.recalibrate import (calibration_override_path, load_calibration_override,
                                               recalibrate)

    if not lab.rubric_path.exists():
        raise NotEnoughDecisions(f"{lab.name} has no rubric ({lab.rubric_path}): nothing to recalibrate")
    rubric = load_rubric(lab.rubric_path)
    override = calibration_override_path(lab.rubric_path)
    if override.exists():
        rubric = load_calibration_override(rubric, override)
    labels = ta_labels(gb, lab.name, rubric)
    per_item = Counter((d.grade_id, d.item_id) for d in labels)
    best = max(per_item.items(), key=lambda kv: (kv[1], kv[0]), default=None)
    if best is None or best[1] < min_decisions:
        most = f"the most decided item, {best[0][0]}/{best[0][1]}, has {best[1]}" if best else "there are none"
        raise NotEnoughDecisions(
            f"recalibration needs at least {min_decisions} TA decisions on one rubric item under rubric version "
            f"{rubric.version}; {most} ({len(labels)} decision(s) in all). Decide more answers first "
            f"(or lower --min-decisions, at the cost of thresholds fitted to very few answers).")
    scorer = RubricScorer(rubric, embedder=embedder)
    report = recalibrate(scorer, labels, min_decisions=min_decisions)
    return Recalibration(report, rubric, dict(Counter(d.grade_id for d in labels)), override)


def format_recalibration(rec: Recalibration) -> str:
    """Per question: decisions used; per item: thresholds and agreement before -> after."""
    rep = rec.report
    lines = [f"recalibration from TA decisions (rubric version {rec.rubric.version}, embedder {rep.embedder})"]
    items_by_q: dict[str, list[Any]] = {}
    for it in rep.items:
        items_by_q.setdefault(it.grade_id, []).append(it)
    for gid in sorted(items_by_q):
        lines += ["", f"{gid}: {rec.per_question.get(gid, 0)} TA decision(s)",
                  f"  {'item':26} {'n':>3}  {'threshold':>13}  {'band':>11}  {'auto agreement':>17}  "
                  f"{'review share':>17}  {'proposal agr.':>17}"]
        for it in items_by_q[gid]:
            lines.append(
                f"  {it.item_id:26} {it.n:3d}  {it.old.threshold:5.2f} -> {it.new.threshold:4.2f}  "
                f"{it.old.band:4.2f} -> {it.new.band:4.2f}  "
                f"{it.before.auto_agreement:6.1%} -> {it.after.auto_agreement:6.1%}  "
                f"{it.before.review_share:6.1%} -> {it.after.review_share:6.1%}  "
                f"{it.before.proposal_agreement:6.1%} -> {it.after.proposal_agreement:6.1%}"
                + ("" if it.changed else f"  ({it.note or 'kept'})"))
    changed = sum(it.changed for it in rep.items)
    lines += ["", f"overall ({rep.before.n} decisions on {len(rep.items)} item(s)): auto agreement "
              f"{rep.before.auto_agreement:.1%} -> {rep.after.auto_agreement:.1%}, review share "
              f"{rep.before.review_share:.1%} -> {rep.after.review_share:.1%}, proposal agreement "
              f"{rep.before.proposal_agreement:.1%} -> {rep.after.proposal_agreement:.1%}",
              f"{changed} item(s) would get new thresholds."]
    return "\n".join(lines)


def apply_recalibration(rec: Recalibration, *, when: str) -> int:
    """Write the changed thresholds to the override file beside the rubric."""
    from autograder.rubric.recalibrate import write_calibration_override

    return write_calibration_override(rec.rubric, rec.override_path, rec.report,
                                      decisions_used=rec.report.before.n, when=when)


# --------------------------------------------------------------------------- the ``review`` verb

REVIEW_DESCRIPTION = """\
Without options: re-export OUT, then list the written items waiting for a TA, grouped per
question and rubric item, similar answers grouped together (each group: an id, its size,
its students, a representative answer, the scorer's proposal and reason).

Record decisions (each is one append-only row per answer in the gradebook, keyed by the
rubric version and the answer's hash: it survives regrades while the answer is unchanged,
stops applying when it changes, and is never overwritten; the latest wins):
  --group GROUP_ID --points P      every answer of a listed group
  --decide STUDENT ITEM POINTS     one answer
  --decisions CSV                  the filled-in 'points' column of OUT/review_queue.csv
Criteria take points; a misconception takes 'present' or 'absent'. OUT (grades.csv,
results.jsonl, feedback/, report.html, review_queue.csv) is re-exported after recording, so
the decision and its comment appear in the student's feedback.

--recalibrate: from the TA decisions recorded under the current rubric version, the
similarity thresholds that would have agreed best with them (per rubric item with at least
--min-decisions decisions); prints a report. With --apply they are written to
<rubric>.calibration.yaml beside the rubric; the next 'grade' run regrades with them and
every TA decision keeps applying.
"""

REVIEW_EPILOG = """\
examples:
  autograder review week10_rnn --out out/week10
  autograder review week10_rnn --out out/week10 --group G1a2b3c4d --points 1 --comment "Right: ..."
  autograder review week10_rnn --out out/week10 --group G5e6f7a8b --points present
  autograder review week10_rnn --out out/week10 --decide s017 w10_explain_clipping/not_vanishing 0
  autograder review week10_rnn --out out/week10 --decisions out/week10/review_queue.csv
  autograder review week10_rnn --out out/week10 --recalibrate            # report only
  autograder review week10_rnn --out out/week10 --recalibrate --apply
"""


def add_review_arguments(r: Any) -> None:
    """The ``review`` verb's options (registered by autograder/grading/command.py)."""
    import argparse

    r.add_argument("assignment", metavar="ASSIGNMENT")
    r.add_argument("--out", default="out", metavar="OUT", help="folder holding the gradebook and the files (default: ./out)")
    r.add_argument("--gradebook", default=None, metavar="PATH", help="gradebook database (default: OUT/gradebook.sqlite)")
    act = r.add_mutually_exclusive_group()
    act.add_argument("--group", default=None, metavar="GROUP_ID", help="decide every answer of this listed group")
    act.add_argument("--decide", nargs=3, metavar=("STUDENT", "ITEM", "POINTS"), help="record one decision")
    act.add_argument("--decisions", default=None, metavar="CSV", help="a filled-in review_queue.csv to record")
    act.add_argument("--recalibrate", action="store_true",
                     help="propose similarity thresholds from the recorded TA decisions (a report)")
    r.add_argument("--points", default=None, metavar="P",
                   help="with --group: the points for each answer (a misconception: present / absent)")
    r.add_argument("--comment", default=None, help="with --group / --decide: feedback shown to the student(s)")
    r.add_argument("--ta", default=None, help="who decides (default: $AUTOGRADER_TA or the login name)")
    r.add_argument("--similarity", type=float, default=DEFAULT_SIMILARITY, metavar="S",
                   help=f"answers at least this similar share a group (cosine, default {DEFAULT_SIMILARITY}); "
                        "use the same value for listing and --group")
    r.add_argument("--apply", action="store_true", help="with --recalibrate: write the new thresholds")
    r.add_argument("--min-decisions", type=int, default=MIN_DECISIONS, metavar="N",
                   help=f"with --recalibrate: TA decisions an item needs (default {MIN_DECISIONS})")
    r.add_argument("--answer-width", type=int, default=400, metavar="CHARS", help=argparse.SUPPRESS)


def _embedder_quietly() -> Any:
    """The default embedder, without the model loader's progress output on stdout."""
    import contextlib
    import io
    import sys
    import warnings

    from autograder.rubric.embed import default_embedder

    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("always")
        emb = default_embedder()
    for w in caught:
        if issubclass(w.category, (RuntimeWarning, UserWarning)):
            print(f"warning: {w.message}", file=sys.stderr)
    return emb


def review_command(args: Any) -> int:
    """The ``review`` verb. Exit status: 0 done, 1 some CSV rows had problems, 2 refused."""
    import getpass
    import os
    import sys

    from autograder.config import load_config
    from autograder.gradebook.store import now_iso
    from autograder.labs import load_lab
    from autograder.reports.exports import export_outputs

    def fail(message: str) -> int:
        print(f"error: {message}", file=sys.stderr)
        return 2

    lab = load_lab(args.assignment, load_config(args.course))
    out = Path(args.out)
    path = Path(args.gradebook) if args.gradebook else out / "gradebook.sqlite"
    if not path.exists():
        return fail(f"no gradebook at {path}: grade first")
    if args.points is not None and not args.group:
        return fail("--points goes with --group (for one answer: --decide STUDENT ITEM POINTS)")
    if args.group and args.points is None:
        return fail("--group needs --points P (a misconception: --points present or --points absent)")
    if args.apply and not args.recalibrate:
        return fail("--apply goes with --recalibrate")
    if not 0.0 < args.similarity <= 1.0:
        return fail("--similarity must be in (0, 1]")
    who = args.ta or os.environ.get("AUTOGRADER_TA") or getpass.getuser()
    status = 0
    recorded = False
    with Gradebook(path) as gb:
        if args.recalibrate:
            try:
                rec = recalibrate_from_gradebook(gb, lab, min_decisions=args.min_decisions,
                                                 embedder=_embedder_quietly())
            except NotEnoughDecisions as exc:
                return fail(str(exc))
            print(format_recalibration(rec))
            if args.apply:
                n = apply_recalibration(rec, when=now_iso())
                if n:
                    print(f"\nwrote new thresholds for {n} item(s) to {rec.override_path}; the next "
                          f"'autograder grade {lab.name} ...' regrades with them (TA decisions are kept)")
                else:
                    print("\nnothing written: no item's thresholds changed")
            else:
                print(f"\nnothing written; add --apply to write them to {rec.override_path}")
            return 0
        try:
            if args.group:
                groups = review_groups(review_queue(gb, lab.name), embedder=_embedder_quietly(),
                                       similarity=args.similarity)
                group = find_group(groups, args.group)
                n = decide_group(gb, lab.name, group, args.points, comment=args.comment or "", decided_by=who)
                recorded = True
                print(f"recorded {n} decision(s) for group {group.group_id} ({group.item}): "
                      + ", ".join(m.student_id for m in group.members) + f" -> {args.points}")
            elif args.decide:
                student, item, value = args.decide
                points, verdict = decide_one(gb, lab.name, student, item, value, comment=args.comment or "",
                                             decided_by=who)
                recorded = True
                print(f"recorded: {student} {item} -> {verdict or fmt_points(points) + ' point(s)'}")
            elif args.decisions:
                result = import_decisions(gb, lab.name, Path(args.decisions), decided_by=who)
                recorded = True
                print(f"recorded {result.recorded} decision(s); {result.skipped_blank} row(s) left blank")
                for problem in result.problems:
                    print(f"  {problem}", file=sys.stderr)
                status = 1 if result.problems else 0
        except (GradebookError, ValueError, OSError) as exc:
            return fail(str(exc))
        export = export_outputs(gb, lab, out)
        if recorded:
            print(f"re-exported {out}: {export.review_queue} written item(s) still waiting for review")
            return status
        groups = review_groups(review_queue(gb, lab.name), embedder=_embedder_quietly(), similarity=args.similarity) \
            if export.review_queue else []
    print(format_groups(groups, assignment=lab.name, out=out, answer_width=args.answer_width))
    print(f"\nqueue as CSV: {out / 'review_queue.csv'}")
    return status

