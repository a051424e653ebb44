"""Group near-duplicate or semantically similar answers for the TA review queue.

Pure function, no storage: the caller passes (key, text) pairs (e.g. key =
(student_id, grade_id, item_id)) and gets groups back, largest first, so that a
TA can decide a whole group of equivalent answers at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Sequence

import numpy as np

from autograder.rubric.embed import Embedder, default_embedder
from autograder.rubric.text import normalize, words


@dataclass(frozen=True)
class AnswerGroup:
    keys: tuple[Hashable, ...]       # members, in input order
    representative: Hashable         # the member shown first (the group's first answer)
    min_similarity: float            # lowest similarity of a member to the representative

    def __len__(self) -> int:
        return len(self.keys)


def _shingles(norm: str, n: int = 3) -> frozenset[str]:
    w = words(norm)
    if len(w) < n:
        return frozenset([" ".join(w)]) if w else frozenset()
    return frozenset(" ".join(w[i:i + n]) for i in range(len(w) - n + 1))


def _jaccard(a: frozenset, b: frozenset) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b) if (a or b) else 0.0


def group_similar(answers: Sequence[tuple[Hashable, str]], threshold: float = 0.9,
                  embedder: Embedder | None = None, near_duplicate: float = 0.8) -> list[AnswerGroup]:
    """Leader clustering of answers, deterministic in the input order.

    An answer joins the first existing group whose representative is a
    near-duplicate (word 3-gram Jaccard >= ``near_duplicate``, or identical
    after normalisation) or whose embedding cosine similarity is >= ``threshold``;
    otherwise it starts a new group. Groups are returned largest first (ties in
    input order); singletons are included.
    """
    if not answers:
        return []
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    embedder = embedder or default_embedder()
    keys = [k for k, _ in answers]
    norms = [" ".join(words(normalize(t))) for _, t in answers]  # punctuation-free comparison form
    shingles = [_shingles(n) for n in norms]
    texts = [n if n else "(empty)" for n in norms]
    uniq = list(dict.fromkeys(texts))
    vecs = embedder.embed(uniq)
    row = {t: i for i, t in enumerate(uniq)}
    emb = vecs[[row[t] for t in texts]]
    leaders: list[int] = []
    members: list[list[tuple[int, float]]] = []
    for i in range(len(answers)):
        placed = False
        if leaders:
            sims = np.round(emb[leaders] @ emb[i], 4)
            for g, li in enumerate(leaders):
                dup = norms[i] == norms[li] or _jaccard(shingles[i], shingles[li]) >= near_duplicate
                if dup or sims[g] >= threshold:
                    members[g].append((i, 1.0 if norms[i] == norms[li] else float(sims[g])))
                    placed = True
                    break
        if not placed:
            leaders.append(i)
            members.append([(i, 1.0)])
    groups = [AnswerGroup(tuple(keys[i] for i, _ in m), keys[m[0][0]], round(min(s for _, s in m), 4))
              for m in members]
    order = sorted(range(len(groups)), key=lambda g: (-len(groups[g].keys), members[g][0][0]))
    return [groups[g] for g in order]
