"""Rubric-driven scoring of written answers.

For every answer and every rubric item the scorer combines

- lexical evidence: the item's patterns, matched sentence by sentence on the
  normalised answer, with clause-level negation (:mod:`autograder.rubric.lexical`);
- semantic evidence: cosine similarity between the answer's sentences and the
  item's ``examples``, discounted when a sentence is as close to a
  ``counter_example`` or when its negation polarity differs from the example's;

into a decision with its reason. When the two kinds of evidence disagree, or the
similarity falls inside the review band around the threshold, the decision is
``needs_review`` and the automatic proposal (what it would give) is recorded;
until a TA decides, the proposal's points count (docs/rubrics.md).

Answer-level guards: an empty answer or placeholder scores 0; a bare list of
rubric words (keyword salad) gets no credit; an answer with no evidence for any
item and low similarity to every example is reported as off-topic.

Public API::

    scorer = RubricScorer(load_rubric(path), embedder=None)
    result = scorer.score("w10_explain_clipping", answer_text)
    results = scorer.score_many([(grade_id, text), ...])
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from autograder.rubric.embed import CachedEmbedder, Embedder, default_embedder
from autograder.rubric.lexical import LexicalEvidence, match_item, unless_present
from autograder.rubric.schema import Calibration, Item, Question, Rubric
from autograder.rubric.text import (CLAUSE_BOUNDARY, Structure, content_stems, is_empty_answer,
                                    negation_spans, normalize, split_sentences, structure, words)

CREDITED, NOT_CREDITED, NEEDS_REVIEW = "credited", "not_credited", "needs_review"
TRIGGERED, NOT_TRIGGERED = "triggered", "not_triggered"

#: polarity mismatch between an answer sentence and an example costs this much similarity
POLARITY_PENALTY = 0.15
#: an answer is off-topic when no pattern matches and its best similarity is this far below the review band
OFF_TOPIC_GAP = 0.12
#: a sentence as close to a counter-example as to an example loses this many times the overlap
COUNTER_WEIGHT = 3.0
#: semantic evidence alone flags a misconception (for review) only this far above the review band
MISCONCEPTION_SEMANTIC_EXTRA = 0.10
#: a matched sentence contradicts the match when it is this far above the review band in
#: similarity to a counter-example while below the band in similarity to every example
CONTRADICTION_GAP = 0.10

REVIEW_FEEDBACK = "A teaching assistant will confirm this part of your answer."
#: sentences longer than this many words are also compared clause by clause (split at ; and ", so/but")
LONG_SENTENCE_WORDS = 22
_CLAUSE_SPLIT = re.compile(r";|,\s+(?:so|but|while|whereas|which)\b|\s+but\s+")


def semantic_units(sentences: list[str]) -> tuple[list[str], list[int]]:
    """Texts compared with the examples, and the sentence each comes from."""
    units, parents = [], []
    for i, s in enumerate(sentences):
        units.append(s)
        parents.append(i)
        if len(words(s)) > LONG_SENTENCE_WORDS:
            for part in _CLAUSE_SPLIT.split(s):
                part = part.strip(" ,")
                if len(words(part)) >= 4 and part != s:
                    units.append(part)
                    parents.append(i)
    return units, parents


@dataclass(frozen=True)
class ItemDecision:
    item_id: str
    kind: str              # "criterion" | "misconception"
    decision: str          # criterion: credited | not_credited | needs_review
                           # misconception: triggered | not_triggered | needs_review
    points: float          # points counted now (the proposal's while in review; <= 0 for misconceptions)
    max_points: float      # criterion's points; 0 for a misconception
    reason: str            # the evidence, for TAs and logs
    feedback: str          # student-facing text
    proposal: str          # what the scorer would decide on its own (== decision unless needs_review)
    proposal_points: float
    evidence: dict = field(default_factory=dict, compare=False)

    @property
    def status(self) -> str:
        """The grading-output status of this item (credited, fail, needs_review)."""
        if self.decision == NEEDS_REVIEW:
            return "needs_review"
        if self.kind == "criterion":
            return "credited" if self.decision == CREDITED else "fail"
        return "fail" if self.decision == TRIGGERED else "credited"

    @property
    def met(self) -> bool:
        """Credited criterion / present misconception, using the proposal while in review."""
        return self.proposal in (CREDITED, TRIGGERED)


@dataclass(frozen=True)
class QuestionResult:
    grade_id: str
    points: float
    max_points: float
    items: tuple[ItemDecision, ...]
    needs_review: bool
    message: str = ""
    flags: tuple[str, ...] = ()     # "empty", "keyword_salad", "salad_suspect", "off_topic"
    rubric_version: str = ""

    @property
    def status(self) -> str:
        """Grading-output status of the question (credited, partial, fail, needs_review)."""
        if self.needs_review:
            return "needs_review"
        if self.points >= self.max_points - 1e-9:
            return "credited"
        return "partial" if self.points > 0 else "fail"

    def item(self, item_id: str) -> ItemDecision:
        for d in self.items:
            if d.item_id == item_id:
                return d
        raise KeyError(item_id)


# --------------------------------------------------------------------------- the decision rule


def classify(kind: str, lexical: str, similarity: float | None, cal: Calibration,
             semantic_elsewhere: bool = False, unless: bool = False, contradicted: bool = False
             ) -> tuple[str, str]:
    """The decision rule, as a pure function of the evidence: returns (decision, proposal).

    ``lexical``: "match" (an affirmed pattern match), "negated" (only negated matches) or
    "none"; ``similarity``: the adjusted semantic score (None if the item has no examples);
    ``semantic_elsewhere``: for a negated match, the best similar sentence is another one;
    ``unless``: a misconception's ``unless_patterns`` matched (e.g. the student's own results);
    ``contradicted``: every sentence with an affirmed match reads closer to a counter-example
    than to any example (lexical and semantic evidence disagree).
    """
    lo, hi = cal.threshold - cal.band, cal.threshold + cal.band
    if kind == "criterion":
        if lexical == "match":
            return (NEEDS_REVIEW, CREDITED) if contradicted else (CREDITED, CREDITED)
        if lexical == "negated":
            if similarity is not None and similarity >= hi and semantic_elsewhere:
                return NEEDS_REVIEW, NOT_CREDITED
            return NOT_CREDITED, NOT_CREDITED
        if similarity is None:
            return NOT_CREDITED, NOT_CREDITED
        if similarity >= hi:
            return CREDITED, CREDITED
        if similarity >= lo:
            return NEEDS_REVIEW, CREDITED if similarity >= cal.threshold else NOT_CREDITED
        return NOT_CREDITED, NOT_CREDITED
    if lexical == "match":
        return (NEEDS_REVIEW, TRIGGERED) if unless else (TRIGGERED, TRIGGERED)
    if lexical == "negated":
        return NOT_TRIGGERED, NOT_TRIGGERED
    if similarity is not None and similarity >= hi + MISCONCEPTION_SEMANTIC_EXTRA and not semantic_elsewhere:
        return NEEDS_REVIEW, TRIGGERED
    return NOT_TRIGGERED, NOT_TRIGGERED


# --------------------------------------------------------------------------- helpers


def _fmt(x: float) -> str:
    return f"{x:g}"


def _negation_parity(sentence: str) -> int:
    """Number of (real) negations, mod 2; a bare "no," answer word does not count."""
    n = 0
    for sp in negation_spans(sentence):
        start = 0
        for m in CLAUSE_BOUNDARY.finditer(sentence, 0, sp.start):
            start = m.end()
        nxt = CLAUSE_BOUNDARY.search(sentence, sp.end)
        end = nxt.start() if nxt else len(sentence)
        if len(words(sentence[start:end])) >= 3:
            n += 1
    return n % 2


@dataclass
class _ItemIndex:
    item: Item
    ex: slice
    cex: slice
    ex_parity: np.ndarray
    ex_texts: tuple[str, ...]


@dataclass
class _QuestionIndex:
    question: Question
    matrix: np.ndarray                      # all examples + counter-examples of the question
    items: dict[str, _ItemIndex]
    vocab: frozenset[str]


@dataclass(frozen=True)
class _Semantic:
    score: float            # polarity- and counter-example-adjusted similarity (best sentence)
    raw: float              # similarity to the nearest example before adjustments
    example: str
    sentence_index: int
    counter: float          # similarity of that sentence to the nearest counter-example
    pos: tuple[float, ...] = ()   # per sentence: polarity-adjusted similarity to the nearest example
    neg: tuple[float, ...] = ()   # per sentence: similarity to the nearest counter-example

    def contradicts(self, sentence: int, cal: Calibration) -> bool:
        """The sentence reads like a counter-example and unlike every example."""
        if not self.neg:
            return False
        n, p = self.neg[sentence], self.pos[sentence]
        return n >= cal.threshold + cal.band + CONTRADICTION_GAP and p < cal.threshold - cal.band


# --------------------------------------------------------------------------- scorer


class RubricScorer:
    """Scores written answers against a :class:`Rubric`. Deterministic for a given embedder."""

    def __init__(self, rubric: Rubric, embedder: Embedder | None = None):
        self.rubric = rubric
        inner = embedder if embedder is not None else default_embedder()
        self.embedder = inner if isinstance(inner, CachedEmbedder) else CachedEmbedder(inner)
        self.embedder_name = self.embedder.name
        self._index: dict[str, _QuestionIndex] = {}
        self._build_index()

    # ----------------------------------------------------------------- index of examples

    def _build_index(self) -> None:
        texts: list[str] = []
        layout = []
        for q in self.rubric.questions:
            q_start = len(texts)
            items = []
            for it in q.items:
                ex0 = len(texts) - q_start
                texts.extend(normalize(e) for e in it.examples)
                ex1 = len(texts) - q_start
                texts.extend(normalize(c) for c in it.counter_examples)
                cx1 = len(texts) - q_start
                items.append((it, slice(ex0, ex1), slice(ex1, cx1)))
            layout.append((q, q_start, len(texts), items))
        vecs = self.embedder.embed(texts) if texts else np.zeros((0, 1), np.float32)
        for q, a, b, items in layout:
            idx = {}
            for it, ex, cx in items:
                ex_norm = [normalize(e) for e in it.examples]
                idx[it.id] = _ItemIndex(it, ex, cx, np.array([_negation_parity(e) for e in ex_norm], dtype=int),
                                        tuple(it.examples))
            vocab = set()
            for it in q.items:
                for t in it.examples + it.counter_examples + (it.description,):
                    vocab.update(content_stems(normalize(t)))
                for p in it.patterns:
                    vocab.update(content_stems(normalize(re.sub(r"\\[a-z]|[^a-z ]", " ", p.lower()))))
            for alts in self.rubric.synonyms.values():
                for alt in alts:
                    vocab.update(content_stems(normalize(re.sub(r"\\[a-z]|[^a-z ]", " ", alt.lower()))))
            self._index[q.grade_id] = _QuestionIndex(q, vecs[a:b], idx, frozenset(vocab))

    # ----------------------------------------------------------------- public API

    def score(self, grade_id: str, answer_text: str | None) -> QuestionResult:
        return self.score_many([(grade_id, answer_text)])[0]

    def score_many(self, answers: Iterable[tuple[str, str | None]]) -> list[QuestionResult]:
        """Score many answers; the sentences that need semantic evidence are embedded in one batch.

        Semantic evidence is skipped for empty answers, keyword lists, and answers in which
        every criterion of the question is already credited by an affirmed pattern match.
        """
        answers = list(answers)
        prepared = []
        units: list[str] = []
        for grade_id, text in answers:
            if grade_id not in self._index:
                self.rubric.question(grade_id)  # raises KeyError with the known ids
            qi = self._index[grade_id]
            norm = normalize(text)
            sents = split_sentences(norm)
            empty = is_empty_answer(norm)
            st = structure(norm, qi.vocab) if not empty else None
            lex = {} if empty or st.is_salad else {it.id: match_item(it, sents) for it in qi.question.items}
            need = bool(lex) and not all(lex[c.id].state == "match" for c in qi.question.criteria)
            us, parents = semantic_units(sents) if need else ([], [])
            prepared.append((qi, norm, sents, empty, st, lex, need, us, parents))
            units.extend(us)
        uniq = list(dict.fromkeys(units))
        vecs = self.embedder.embed(uniq) if uniq else None
        pos = {u: i for i, u in enumerate(uniq)}
        out = []
        for qi, norm, sents, empty, st, lex, need, us, parents in prepared:
            u = vecs[[pos[x] for x in us]] if us else None
            out.append(self._score_one(qi, norm, sents, empty, st, lex, need, u, us, parents))
        return out

    # ----------------------------------------------------------------- semantics

    def _semantic(self, qi: _QuestionIndex, ii: _ItemIndex, sims: np.ndarray, parities: list[int],
                  cal: Calibration, parents: list[int], n_sent: int) -> _Semantic | None:
        n_ex = ii.ex.stop - ii.ex.start
        if n_ex == 0 or sims.shape[0] == 0:
            return None
        ex = sims[:, ii.ex]                                      # (units, examples)
        mismatch = np.array(parities)[:, None] != ii.ex_parity[None, :]
        adj = ex - POLARITY_PENALTY * mismatch
        best_ex = adj.argmax(axis=1)
        best = adj[np.arange(adj.shape[0]), best_ex]
        if ii.cex.stop > ii.cex.start:
            neg = sims[:, ii.cex].max(axis=1)
        else:
            neg = np.full(best.shape, -1.0)
        eff = best - COUNTER_WEIGHT * np.maximum(0.0, neg - best + cal.margin)
        # about as close to a counter-example as to the examples: at most a review (no credit proposed);
        # closer to a counter-example: never semantic credit
        eff = np.where(neg >= best - 2 * cal.margin, np.minimum(eff, cal.threshold - 0.001), eff)
        eff = np.where(neg >= best, np.minimum(eff, cal.threshold - cal.band - 0.01), eff)
        eff = np.round(eff, 4)
        u = int(eff.argmax())
        pos_s, neg_s = [-1.0] * n_sent, [-1.0] * n_sent
        for k, p in enumerate(parents):
            pos_s[p] = max(pos_s[p], round(float(best[k]), 4))
            neg_s[p] = max(neg_s[p], round(float(neg[k]), 4))
        return _Semantic(float(eff[u]), round(float(ex[u, best_ex[u]]), 4), ii.ex_texts[int(best_ex[u])], parents[u],
                         round(float(neg[u]), 4), tuple(pos_s),
                         tuple(neg_s) if ii.cex.stop > ii.cex.start else ())

    # ----------------------------------------------------------------- one answer

    def _score_one(self, qi: _QuestionIndex, norm: str, sents: list[str], empty: bool, st: Structure | None,
                   lex_by_item: dict[str, LexicalEvidence], need_semantic: bool, unit_vecs: np.ndarray | None,
                   units: list[str], parents: list[int]) -> QuestionResult:
        q = qi.question
        version = self.rubric.version
        if empty:
            items = tuple(self._fixed(it, "no answer was given") for it in q.items)
            return QuestionResult(q.grade_id, 0.0, q.max_points, items, False,
                                  "No answer was given, so no points could be awarded.", ("empty",), version)
        if st.is_salad:
            why = (f"keyword list: {st.n_fragments} fragments, {st.short_fragments} without a verb, "
                   f"{st.keyword_density:.0%} rubric words")
            items = tuple(self._fixed(it, why) for it in q.items)
            return QuestionResult(
                q.grade_id, 0.0, q.max_points, items, False,
                "Your answer lists terms without explaining how they connect. Write full sentences that say "
                "what happens and why; a list of keywords earns no credit.", ("keyword_salad",), version)

        if need_semantic and unit_vecs is not None and qi.matrix.shape[0]:
            sims = unit_vecs @ qi.matrix.T
            parities = [_negation_parity(x) for x in units]
        else:
            sims = None
        decisions = []
        best_topic = -1.0
        any_match = False
        evidence = []
        criterion_sentences: set[int] = set()
        for it in q.items:
            cal = self.rubric.calibration_for(self.embedder_name, q, it)
            sem = self._semantic(qi, qi.items[it.id], sims, parities, cal, parents, len(sents)) if sims is not None else None
            lex = lex_by_item[it.id]
            evidence.append((it, cal, sem, lex))
            any_match = any_match or lex.state == "match"
            if it.kind == "criterion":
                criterion_sentences.update(m.sentence_index for m in lex.affirmed)
                if sem is not None:
                    best_topic = max(best_topic, sem.raw)
        for it, cal, sem, lex in evidence:
            if it.kind == "criterion":
                d = self._decide_criterion(it, lex, sem, cal, sents)
                if st.borderline and d.decision == CREDITED:
                    d = self._review(d, CREDITED, it.points,
                                     "answer looks like a list of keywords; confirm it explains the point. " + d.reason)
            else:
                d = self._decide_misconception(it, lex, sem, cal, sents, criterion_sentences)
            if not need_semantic:
                d.evidence["semantic"] = "skipped: every criterion is credited by a pattern"
            decisions.append(d)

        flags = ["salad_suspect"] if st.borderline else []
        off_topic = False
        if not any_match and not any(d.met or d.decision == NEEDS_REVIEW for d in decisions):
            cal0 = self.rubric.calibration_for(self.embedder_name, q, q.criteria[0])
            if best_topic < cal0.threshold - cal0.band - OFF_TOPIC_GAP:
                off_topic = True
                flags.append("off_topic")
                decisions = [self._fixed(it, f"off-topic: best similarity to any example {best_topic:.2f}")
                             if d.decision != NEEDS_REVIEW else d for it, d in zip(q.items, decisions)]
        return self._combine(q, tuple(decisions), tuple(flags), off_topic)

    def _fixed(self, it: Item, why: str) -> ItemDecision:
        if it.kind == "criterion":
            return ItemDecision(it.id, it.kind, NOT_CREDITED, 0.0, it.points, why, it.feedback.shown_if_not_met,
                                NOT_CREDITED, 0.0, {"guard": why})
        return ItemDecision(it.id, it.kind, NOT_TRIGGERED, 0.0, 0.0, why, it.feedback.shown_if_not_met,
                            NOT_TRIGGERED, 0.0, {"guard": why})

    @staticmethod
    def _review(d: ItemDecision, proposal: str, proposal_points: float, reason: str) -> ItemDecision:
        return ItemDecision(d.item_id, d.kind, NEEDS_REVIEW, proposal_points, d.max_points, reason,
                            d.feedback, proposal, proposal_points, d.evidence)

    @staticmethod
    def _sem_text(sem: _Semantic | None, cal: Calibration) -> str:
        if sem is None:
            return "no semantic comparison (no examples, or every criterion already matched)"
        lo, hi = cal.threshold - cal.band, cal.threshold + cal.band
        return (f"similarity {sem.score:.2f} to example {sem.example!r} "
                f"(review band {lo:.2f}-{hi:.2f}; counter-example {sem.counter:.2f})")

    @staticmethod
    def _evidence(lex: LexicalEvidence, sem: _Semantic | None, cal: Calibration) -> dict:
        ev = {"lexical": lex.state,
              "patterns": [m.pattern for m in lex.affirmed],
              "matched": [m.text for m in lex.affirmed],
              "negated": [f"{m.text} ({m.why_negated})" for m in lex.negated],
              "threshold": cal.threshold, "band": cal.band}
        if sem is not None:
            ev.update(similarity=sem.score, raw_similarity=sem.raw, example=sem.example,
                      counter_similarity=sem.counter, sentence=sem.sentence_index)
        return ev

    def _make(self, it: Item, decision: str, proposal: str, reason: str, ev: dict) -> ItemDecision:
        if it.kind == "criterion":
            pts = it.points if proposal == CREDITED else 0.0
            fb = it.feedback.shown_if_met if proposal == CREDITED else it.feedback.shown_if_not_met
            return ItemDecision(it.id, it.kind, decision, pts, it.points, reason, fb, proposal, pts, ev)
        pts = it.penalty if proposal == TRIGGERED else 0.0
        fb = it.feedback.shown_if_met if proposal == TRIGGERED else it.feedback.shown_if_not_met
        return ItemDecision(it.id, it.kind, decision, pts, 0.0, reason, fb, proposal, pts, ev)

    def _decide_criterion(self, it: Item, lex: LexicalEvidence, sem: _Semantic | None, cal: Calibration,
                          sents: list[str]) -> ItemDecision:
        ev = self._evidence(lex, sem, cal)
        semtxt = self._sem_text(sem, cal)
        score = sem.score if sem is not None else None
        elsewhere = bool(lex.negated) and sem is not None and sem.sentence_index != lex.negated[0].sentence_index
        contradicted = (lex.state == "match" and sem is not None
                        and all(sem.contradicts(m.sentence_index, cal) for m in lex.affirmed))
        ev["contradicted"] = contradicted
        ev["elsewhere"] = elsewhere
        decision, proposal = classify("criterion", lex.state, score, cal, semantic_elsewhere=elsewhere,
                                      contradicted=contradicted)
        if lex.state == "match":
            m = lex.affirmed[0]
            base = f"pattern {m.pattern!r} matched {m.text!r}"
            if decision != NEEDS_REVIEW:
                reason = f"{base}; {semtxt}"
            else:
                i = m.sentence_index
                reason = (f"lexical and semantic evidence disagree: {base}, but that sentence reads like a "
                          f"counter-example (similarity {sem.neg[i]:.2f} vs {sem.pos[i]:.2f} to the examples)")
        elif lex.state == "negated":
            m = lex.negated[0]
            base = f"pattern {m.pattern!r} matched {m.text!r} but it is {m.why_negated}"
            reason = base if decision != NEEDS_REVIEW else f"lexical and semantic evidence disagree: {base}; elsewhere {semtxt}"
        elif sem is None:
            reason = "no pattern matched"
        elif decision == NEEDS_REVIEW:
            reason = f"no pattern matched and {semtxt}: inside the review band"
        elif decision == CREDITED:
            reason = f"no pattern matched, but {semtxt}"
        else:
            reason = f"no pattern matched; {semtxt}"
        return self._make(it, decision, proposal, reason, ev)

    def _decide_misconception(self, it: Item, lex: LexicalEvidence, sem: _Semantic | None, cal: Calibration,
                              sents: list[str], criterion_sentences: set[int] = frozenset()) -> ItemDecision:
        ev = self._evidence(lex, sem, cal)
        semtxt = self._sem_text(sem, cal)
        exc = unless_present(it, sents) if lex.state == "match" else None
        # semantic-only evidence from a sentence that already credits a criterion is not trusted
        elsewhere = sem is not None and sem.sentence_index in criterion_sentences
        ev["unless"] = exc is not None
        ev["elsewhere"] = elsewhere
        decision, proposal = classify("misconception", lex.state, sem.score if sem else None, cal,
                                      semantic_elsewhere=elsewhere, unless=exc is not None)
        if lex.state == "match":
            m = lex.affirmed[0]
            base = f"pattern {m.pattern!r} matched {m.text!r}"
            reason = (f"{base}; {semtxt}" if exc is None else
                      f"{base}, but the answer may rest on the student's own results ({exc.text!r}); "
                      f"confirm against their runs")
        elif lex.state == "negated":
            m = lex.negated[0]
            reason = f"pattern {m.pattern!r} matched {m.text!r} but it is {m.why_negated}"
        elif decision == NEEDS_REVIEW:
            reason = f"no pattern matched, but {semtxt}: the answer may state this misconception"
        else:
            reason = f"no pattern matched; {semtxt}"
        return self._make(it, decision, proposal, reason, ev)

    # ----------------------------------------------------------------- totals

    def _combine(self, q: Question, items: tuple[ItemDecision, ...], flags: tuple[str, ...],
                 off_topic: bool) -> QuestionResult:
        gained = sum(d.proposal_points for d in items if d.kind == "criterion")
        penalty = sum(d.proposal_points for d in items if d.kind == "misconception")
        caps = [q.item(d.item_id).cap for d in items
                if d.kind == "misconception" and d.met and q.item(d.item_id).cap is not None]
        total = min(max(gained + penalty, 0.0), q.max_points)
        if caps:
            total = min(total, min(caps))
        total = round(total, 4)
        review = any(d.decision == NEEDS_REVIEW for d in items)
        return QuestionResult(q.grade_id, total, q.max_points, items, review,
                              self._message(q, items, total, off_topic, review), flags, self.rubric.version)

    @staticmethod
    def _message(q: Question, items: Sequence[ItemDecision], total: float, off_topic: bool, review: bool) -> str:
        if off_topic:
            return ("Your answer does not seem to address this question, so no points were awarded. "
                    "If you think it does, ask a teaching assistant to look at it.")
        parts = [f"{_fmt(total)}/{_fmt(q.max_points)} points."]
        mis = [d for d in items if d.kind == "misconception" and d.met]
        if mis:
            parts.append("Your answer contains a misconception, see below.")
        if review:
            parts.append("Part of this answer is waiting for a teaching assistant; the points may still change.")
        return " ".join(parts)


def feedback_lines(result: QuestionResult) -> list[str]:
    """Student-facing feedback texts of a result, one per rubric item, in rubric order."""
    return [d.feedback if d.decision != NEEDS_REVIEW else f"{d.feedback} ({REVIEW_FEEDBACK})"
            for d in result.items]
