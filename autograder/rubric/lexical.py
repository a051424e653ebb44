"""Lexical evidence: rubric patterns matched sentence by sentence, with polarity.

A pattern match is *affirmed* unless a negation scopes over it. Scope is the
clause that contains the end of the match (clauses end at , ; : ( ) and at
but / and / so / which / while ...), from its start up to the end of the
match. A negation cue inside the matched text counts only when the pattern does
not need it: "clipping does not fix vanishing" matches the pattern
``clip ... fix ... vanish`` with a foreign "not" (negated), while the pattern
``clip ... (not|never) ... fix ... vanish`` needs that "not" (affirmed). Two
negations cancel. For misconceptions, a sentence that frames the claim as a
misconception ("a common myth is that ...", "many think ..., but that is
wrong") or as a hypothetical ("if every step had its own weights ...",
"... would be impossible") also counts as a negation.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from autograder.rubric.schema import Item, Rubric
from autograder.rubric.text import (clause_start, is_disavowed, is_hypothetical, negation_spans,
                                    normalize, split_sentences)


@dataclass(frozen=True)
class Match:
    pattern: str
    sentence_index: int
    text: str          # the matched text
    sentence: str
    negated: bool
    why_negated: str = ""


@dataclass(frozen=True)
class LexicalEvidence:
    affirmed: tuple[Match, ...]
    negated: tuple[Match, ...]

    @property
    def state(self) -> str:
        if self.affirmed:
            return "match"
        if self.negated:
            return "negated"
        return "none"


def _polarity(rx: re.Pattern, sentence: str, m: re.Match, disavowal: bool) -> tuple[bool, str]:
    start, end = m.span()
    scope_start = clause_start(sentence, max(start, end - 1))
    cues = [s for s in negation_spans(sentence) if scope_start <= s.start < end]
    foreign = []
    for c in cues:
        if c.start >= start:  # inside the match: does the pattern need it?
            blanked = sentence[:c.start] + "_" * (c.end - c.start) + sentence[c.end:]
            if rx.fullmatch(blanked, start, end) is None:
                continue  # the pattern needs this negation: it is part of the claim
        foreign.append(sentence[c.start:c.end])
    negated = len(foreign) % 2 == 1
    why = f"negated by '{foreign[0]}'" if negated else ""
    if disavowal and not negated:
        if is_disavowed(sentence):
            return True, "reported as a misconception, not asserted"
        if is_hypothetical(sentence, start):
            return True, "hypothetical, not asserted"
    return negated, why


def match_item(item: Item, sentences: list[str], patterns=None) -> LexicalEvidence:
    """All matches of ``item``'s patterns in the (normalised) sentences, split by polarity."""
    affirmed, negated = [], []
    compiled = patterns if patterns is not None else item.compiled
    sources = item.patterns if patterns is None else item.unless_patterns
    for si, sent in enumerate(sentences):
        for src, rx in zip(sources, compiled):
            for m in rx.finditer(sent):
                if m.end() == m.start():
                    continue
                if item.negation == "ignore":
                    neg, why = False, ""
                else:
                    neg, why = _polarity(rx, sent, m, disavowal=item.kind == "misconception")
                mt = Match(src, si, m.group(0), sent, neg, why)
                (negated if neg else affirmed).append(mt)
                break  # first occurrence of each pattern per sentence is enough
    return LexicalEvidence(tuple(affirmed), tuple(negated))


def unless_present(item: Item, sentences: list[str]) -> Match | None:
    """First affirmed match of the misconception's ``unless_patterns`` (e.g. own results)."""
    if not item.unless_compiled:
        return None
    ev = match_item(item, sentences, patterns=item.unless_compiled)
    return ev.affirmed[0] if ev.affirmed else None


def lint_rubric(rubric: Rubric) -> list[str]:
    """Warnings an instructor should look at (not errors): examples that no pattern
    matches and counter-examples that a pattern credits."""
    warnings = []
    for q in rubric.questions:
        for it in q.items:
            if not it.patterns:
                continue
            for ex in it.examples:
                ev = match_item(it, split_sentences(normalize(ex)))
                if ev.state != "match":
                    warnings.append(f"{rubric.path}: {q.grade_id}.{it.id}: no pattern matches example {ex!r} "
                                    f"(it can still be credited by semantic similarity)")
            for cx in it.counter_examples:
                ev = match_item(it, split_sentences(normalize(cx)))
                if ev.state == "match":
                    warnings.append(f"{rubric.path}: {q.grade_id}.{it.id}: counter-example {cx!r} is matched "
                                    f"by pattern {ev.affirmed[0].pattern!r}")
    return warnings
