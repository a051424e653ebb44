"""Rubric-driven grading of the written Predict & probe and Explain & defend answers.

    from autograder.rubric import load_rubric, RubricScorer
    scorer = RubricScorer(load_rubric("rubrics/week10_rnn.yaml"))   # default offline embedder
    result = scorer.score("w10_explain_clipping", text)              # -> QuestionResult
    results = scorer.score_many([(grade_id, text), ...])             # batched embeddings

See docs/rubrics.md for the rubric format, how decisions are made and the evaluation.
"""
from autograder.rubric.embed import (CachedEmbedder, Embedder, HashingEmbedder, default_embedder,
                                     make_embedder)
from autograder.rubric.grouping import AnswerGroup, group_similar
from autograder.rubric.lexical import lint_rubric
from autograder.rubric.recalibrate import RecalibrationReport, TADecision, apply_calibration, recalibrate
from autograder.rubric.schema import Calibration, Item, Question, Rubric, RubricError, load_rubric, parse_rubric
from autograder.rubric.scorer import ItemDecision, QuestionResult, RubricScorer, feedback_lines

__all__ = [
    "AnswerGroup", "CachedEmbedder", "Calibration", "Embedder", "HashingEmbedder", "Item", "ItemDecision",
    "Question", "QuestionResult", "RecalibrationReport", "Rubric", "RubricError", "RubricScorer", "TADecision",
    "apply_calibration", "default_embedder", "feedback_lines", "group_similar", "lint_rubric", "load_rubric",
    "make_embedder", "parse_rubric", "recalibrate",
]
