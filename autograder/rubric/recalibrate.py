"""Recalibrate per-item similarity thresholds and review bands from TA decisions.

Pure functions, no storage: the caller (the gradebook) passes the TA decisions
it holds and gets back a report and the new calibration; ``apply_calibration``
returns an updated Rubric, ``calibration_yaml`` the snippet to paste into the
rubric file. Items with too few TA decisions keep their thresholds.

For each item the scorer's evidence (lexical state, similarity) is computed
once per answer; then a grid of (threshold, band) is replayed through the
scorer's own decision rule (:func:`autograder.rubric.scorer.classify`),
choosing the setting with the best agreement on auto-decided items subject to:
precision of automatic credit >= ``min_precision`` and review share <=
``max_review``; ties go to the smaller band, then to the setting closest to the
current one.
"""
from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import yaml

from autograder.rubric.schema import Calibration, Rubric, RubricError
from autograder.rubric.scorer import (CREDITED, NEEDS_REVIEW, TRIGGERED, RubricScorer, classify)

_POSITIVE = {"credited", "triggered", "present", "yes", "true", "1"}
_NEGATIVE = {"not_credited", "not_triggered", "absent", "no", "false", "0"}


@dataclass(frozen=True)
class TADecision:
    grade_id: str
    item_id: str
    answer_text: str
    ta_decision: str | bool   # credited / not_credited (criteria), triggered / not_triggered (misconceptions), or bool

    @property
    def met(self) -> bool:
        if isinstance(self.ta_decision, bool):
            return self.ta_decision
        v = str(self.ta_decision).strip().lower()
        if v in _POSITIVE:
            return True
        if v in _NEGATIVE:
            return False
        raise ValueError(f"unknown TA decision {self.ta_decision!r} for {self.grade_id}.{self.item_id}")


@dataclass(frozen=True)
class Agreement:
    n: int
    auto_agreement: float      # share of auto-decided items that match the TA
    review_share: float
    proposal_agreement: float  # share of all items whose (proposed) decision matches the TA
    auto_precision: float      # of automatic credit / misconception triggers


@dataclass(frozen=True)
class ItemCalibration:
    grade_id: str
    item_id: str
    kind: str
    n: int
    old: Calibration
    new: Calibration
    before: Agreement
    after: Agreement
    changed: bool
    note: str = ""


@dataclass(frozen=True)
class RecalibrationReport:
    embedder: str
    items: tuple[ItemCalibration, ...]
    before: Agreement
    after: Agreement

    def updates(self) -> dict[str, dict[str, dict[str, float]]]:
        """{grade_id: {item_id: {threshold, band, margin}}} for the items that changed."""
        out: dict[str, dict[str, dict[str, float]]] = {}
        for it in self.items:
            if it.changed:
                out.setdefault(it.grade_id, {})[it.item_id] = {
                    "threshold": it.new.threshold, "band": it.new.band, "margin": it.new.margin}
        return out

    def to_text(self) -> str:
        lines = [f"recalibration for embedder {self.embedder!r}",
                 f"{'item':45} {'n':>4} {'threshold':>15} {'band':>11} {'auto agree':>15} {'review':>15}"]
        for it in self.items:
            lines.append(
                f"{it.grade_id + '.' + it.item_id:45} {it.n:4d} "
                f"{it.old.threshold:6.2f} -> {it.new.threshold:4.2f} {it.old.band:4.2f} -> {it.new.band:4.2f} "
                f"{it.before.auto_agreement:6.1%} -> {it.after.auto_agreement:6.1%} "
                f"{it.before.review_share:6.1%} -> {it.after.review_share:6.1%}" + (f"  ({it.note})" if it.note else ""))
        lines.append(f"overall: auto agreement {self.before.auto_agreement:.1%} -> {self.after.auto_agreement:.1%}, "
                     f"review share {self.before.review_share:.1%} -> {self.after.review_share:.1%}, "
                     f"proposal agreement {self.before.proposal_agreement:.1%} -> {self.after.proposal_agreement:.1%}")
        return "\n".join(lines)


def _agreement(kind: str, ev: list[tuple[str, float | None, bool, bool, bool]], ta: list[bool],
               cal: Calibration) -> Agreement:
    auto = agree = review = prop_agree = pos = pos_ok = 0
    for (lex, sim, elsewhere, unless, contradicted), truth in zip(ev, ta):
        decision, proposal = classify(kind, lex, sim, cal, elsewhere, unless, contradicted)
        met = proposal in (CREDITED, TRIGGERED)
        prop_agree += int(met == truth)
        if decision == NEEDS_REVIEW:
            review += 1
            continue
        auto += 1
        agree += int(met == truth)
        if met:
            pos += 1
            pos_ok += int(truth)
    n = len(ta)
    return Agreement(n, agree / auto if auto else 0.0, review / n if n else 0.0,
                     prop_agree / n if n else 0.0, pos_ok / pos if pos else 1.0)


def _pooled(parts: list[Agreement]) -> Agreement:
    n = sum(p.n for p in parts)
    if not n:
        return Agreement(0, 0.0, 0.0, 0.0, 1.0)
    auto = [p.n * (1 - p.review_share) for p in parts]
    tot_auto = sum(auto)
    return Agreement(n,
                     sum(a * p.auto_agreement for a, p in zip(auto, parts)) / tot_auto if tot_auto else 0.0,
                     sum(p.n * p.review_share for p in parts) / n,
                     sum(p.n * p.proposal_agreement for p in parts) / n,
                     min((p.auto_precision for p in parts), default=1.0))


def recalibrate(scorer: RubricScorer, decisions: Iterable[TADecision], min_decisions: int = 8,
                min_precision: float = 0.95, max_review: float = 0.35,
                thresholds: Iterable[float] | None = None, bands: Iterable[float] = (0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.12)
                ) -> RecalibrationReport:
    decisions = list(decisions)
    rubric = scorer.rubric
    grid_t = [round(x, 2) for x in (thresholds if thresholds is not None else [0.30 + 0.01 * i for i in range(61)])]
    grid_b = [round(b, 2) for b in bands]
    by_item: dict[tuple[str, str], list[TADecision]] = {}
    for d in decisions:
        rubric.question(d.grade_id).item(d.item_id)  # raises KeyError for unknown ids
        by_item.setdefault((d.grade_id, d.item_id), []).append(d)
    # evidence, one batched scoring pass
    pairs = sorted({(d.grade_id, d.answer_text) for d in decisions})
    results = dict(zip(pairs, scorer.score_many(pairs)))
    report_items = []
    for (gid, iid), ds in sorted(by_item.items()):
        q = rubric.question(gid)
        item = q.item(iid)
        old = rubric.calibration_for(scorer.embedder_name, q, item)
        ev, ta = [], []
        for d in ds:
            dec = results[(gid, d.answer_text)].item(iid)
            e = dec.evidence
            lex = e.get("lexical", "none")
            sim = e.get("similarity")
            elsewhere = bool(e.get("elsewhere"))
            unless = bool(e.get("unless"))
            contradicted = bool(e.get("contradicted"))
            if "guard" in e:  # empty / salad / off-topic answers: not affected by thresholds
                lex, sim = "guard", None
            ev.append((lex, sim, elsewhere, unless, contradicted))
            ta.append(d.met)
        keep = [(e, t) for e, t in zip(ev, ta) if e[0] != "guard"]
        ev_k = [e for e, _ in keep]
        ta_k = [t for _, t in keep]
        before = _agreement(item.kind, ev_k, ta_k, old)
        if len(ta_k) < min_decisions:
            report_items.append(ItemCalibration(gid, iid, item.kind, len(ta_k), old, old, before, before, False,
                                                f"kept: fewer than {min_decisions} TA decisions"))
            continue
        best = None
        for t in grid_t:
            for b in grid_b:
                cal = Calibration(t, b, old.margin)
                ag = _agreement(item.kind, ev_k, ta_k, cal)
                if ag.auto_precision < min_precision or ag.review_share > max_review:
                    continue
                key = (round(ag.auto_agreement * (1 - ag.review_share), 6), round(ag.proposal_agreement, 6),
                       -b, -abs(t - old.threshold))
                if best is None or key > best[0]:
                    best = (key, cal, ag)
        if best is None:
            report_items.append(ItemCalibration(gid, iid, item.kind, len(ta_k), old, old, before, before, False,
                                                "kept: no setting meets the precision and review constraints"))
            continue
        _, cal, ag = best
        before_key = (round(before.auto_agreement * (1 - before.review_share), 6), round(before.proposal_agreement, 6))
        if (round(ag.auto_agreement * (1 - ag.review_share), 6), round(ag.proposal_agreement, 6)) <= before_key:
            report_items.append(ItemCalibration(gid, iid, item.kind, len(ta_k), old, old, before, before, False,
                                                "kept: no better setting"))
            continue
        report_items.append(ItemCalibration(gid, iid, item.kind, len(ta_k), old, cal, before, ag, True))
    return RecalibrationReport(scorer.embedder_name, tuple(report_items),
                               _pooled([i.before for i in report_items]), _pooled([i.after for i in report_items]))


def apply_calibration(rubric: Rubric, report: RecalibrationReport) -> Rubric:
    """A copy of ``rubric`` with the report's new per-item thresholds for its embedder."""
    updates = report.updates()
    questions = []
    for q in rubric.questions:
        items_u = updates.get(q.grade_id, {})

        def upd(it):
            if it.id not in items_u:
                return it
            cal = {k: dict(v) for k, v in it.calibration.items()}
            cal[report.embedder] = dict(items_u[it.id])
            return dataclasses.replace(it, calibration=cal)

        questions.append(dataclasses.replace(q, criteria=tuple(upd(c) for c in q.criteria),
                                             misconceptions=tuple(upd(m) for m in q.misconceptions)))
    return dataclasses.replace(rubric, questions=tuple(questions))


def calibration_yaml(report: RecalibrationReport) -> str:
    """The ``calibration:`` entries to paste under each changed item of the rubric file."""
    out = {gid: {iid: {"calibration": {report.embedder: v}} for iid, v in items.items()}
           for gid, items in report.updates().items()}
    return yaml.safe_dump(out, sort_keys=True)


# --------------------------------------------------------------------------- override file
#
# Recalibrated thresholds are written to ``<rubric stem>.calibration.yaml`` beside the
# rubric, not into the rubric itself: the rubric is the instructor's commented file (a
# YAML round trip would drop every comment), the override is machine-written, can be
# reviewed as a diff and removed to go back, and it keeps the rubric ``version`` (which
# keys TA decisions) unchanged, so no decision stops applying. The grader reads it on
# top of the rubric (item level, the highest precedence) and folds its hash into the
# grader version, so the next ``grade`` regrades with the new thresholds.

OVERRIDE_SUFFIX = ".calibration.yaml"


def calibration_override_path(rubric_path: str | Path) -> Path:
    """Where the per-course threshold overrides of a rubric live."""
    p = Path(rubric_path)
    return p.with_name(p.stem + OVERRIDE_SUFFIX)


def _read_override(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise RubricError(f"cannot read calibration override: {e}", path) from None
    if not isinstance(data, dict) or not isinstance(data.get("questions", {}), dict):
        raise RubricError("a calibration override maps 'questions' to {grade_id: {item_id: {embedder: "
                          "{threshold, band, margin}}}}", path)
    return data


def load_calibration_override(rubric: Rubric, path: str | Path) -> Rubric:
    """``rubric`` with the item calibrations of the override file at ``path`` applied.

    Raises :class:`RubricError` for an unknown question or item or an out-of-range
    value. An override written for another rubric version is ignored with a warning
    (its thresholds were fitted to other patterns): recalibrate again."""
    path = Path(path)
    data = _read_override(path)
    if str(data.get("rubric_version", "")) != rubric.version:
        warnings.warn(f"{path}: written for rubric version {data.get('rubric_version')!r}, the rubric is "
                      f"{rubric.version!r}; its thresholds are ignored (run autograder review --recalibrate again)",
                      RuntimeWarning, stacklevel=2)
        return rubric
    updates: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for gid, items in (data.get("questions") or {}).items():
        try:
            q = rubric.question(str(gid))
        except KeyError as e:
            raise RubricError(str(e.args[0]), path) from None
        for iid, per_model in (items or {}).items():
            try:
                q.item(str(iid))
            except KeyError as e:
                raise RubricError(str(e.args[0]), path) from None
            if not isinstance(per_model, dict):
                raise RubricError(f"{gid}.{iid}: expected {{embedder: {{threshold, band, margin}}}}", path)
            for model, cal in per_model.items():
                if not isinstance(cal, dict) or set(cal) - {"threshold", "band", "margin"}:
                    raise RubricError(f"{gid}.{iid}.{model}: expected threshold, band, margin", path)
                vals = {k: float(v) for k, v in cal.items()}
                if not -1.0 <= vals.get("threshold", 0.0) <= 1.0 or \
                        any(not 0.0 <= vals.get(k, 0.0) <= 0.5 for k in ("band", "margin")):
                    raise RubricError(f"{gid}.{iid}.{model}: threshold in [-1, 1], band and margin in [0, 0.5]", path)
                updates.setdefault(str(gid), {}).setdefault(str(iid), {})[str(model)] = vals
    questions = []
    for q in rubric.questions:
        items_u = updates.get(q.grade_id, {})

        def upd(it: Any) -> Any:
            if it.id not in items_u:
                return it
            cal = {k: dict(v) for k, v in it.calibration.items()}
            for model, vals in items_u[it.id].items():
                cal[model] = {**cal.get(model, {}), **vals}
            return dataclasses.replace(it, calibration=cal)

        questions.append(dataclasses.replace(q, criteria=tuple(upd(c) for c in q.criteria),
                                             misconceptions=tuple(upd(m) for m in q.misconceptions)))
    return dataclasses.replace(rubric, questions=tuple(questions))


def write_calibration_override(rubric: Rubric, path: str | Path, report: RecalibrationReport, *,
                               decisions_used: int, when: str) -> int:
    """Merge the report's changed items into the override file (other items and other
    embedders' entries are kept) and append a history line. Returns the number of
    items written; writes nothing when no item changed."""
    path = Path(path)
    updates = report.updates()
    if not updates:
        return 0
    data = _read_override(path) if path.exists() else {}
    if str(data.get("rubric_version", rubric.version)) != rubric.version:
        data = {}  # fitted to an older rubric: start over
    questions = data.get("questions") or {}
    for gid, items in updates.items():
        for iid, cal in items.items():
            questions.setdefault(gid, {}).setdefault(iid, {})[report.embedder] = {
                k: round(float(v), 4) for k, v in cal.items()}
    history = list(data.get("history") or [])
    history.append({"at": when, "embedder": report.embedder, "decisions": decisions_used,
                    "items": sorted(f"{g}.{i}" for g, its in updates.items() for i in its)})
    out = {"rubric_version": rubric.version, "questions": questions, "history": history}
    header = ("# Thresholds recalibrated from TA decisions by `autograder review LAB --recalibrate --apply`.\n"
              "# Read on top of the rubric (item level). Delete this file to go back to the rubric's own values.\n")
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(header + yaml.safe_dump(out, sort_keys=True), encoding="utf-8")
    tmp.replace(path)
    return sum(len(v) for v in updates.values())
