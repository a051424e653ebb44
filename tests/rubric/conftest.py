"""Shared fixtures for the rubric tests.

``scorer10`` / ``scorer11`` use the project's default embedder (the packaged
all-MiniLM-L6-v2 model; the hashing fallback if it is not installed), loaded
once per session. ``hashing10`` uses the tiny deterministic fallback.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from autograder.rubric import HashingEmbedder, RubricScorer, default_embedder, load_rubric

ROOT = Path(__file__).resolve().parents[2]
RUBRICS = ROOT / "rubrics"


@pytest.fixture(scope="session")
def rubric10():
    return load_rubric(RUBRICS / "week10_rnn.yaml")


@pytest.fixture(scope="session")
def rubric11():
    return load_rubric(RUBRICS / "week11_gated.yaml")


@pytest.fixture(scope="session")
def embedder():
    return default_embedder()


@pytest.fixture(scope="session")
def scorer10(rubric10, embedder):
    return RubricScorer(rubric10, embedder=embedder)


@pytest.fixture(scope="session")
def scorer11(rubric11, embedder):
    return RubricScorer(rubric11, embedder=embedder)


@pytest.fixture(scope="session")
def hashing10(rubric10):
    return RubricScorer(rubric10, embedder=HashingEmbedder())
