"""An instructor who edits a rubric gets a clear error naming file, line, question and item."""
from __future__ import annotations

import textwrap

import pytest

from autograder.rubric import RubricError, lint_rubric, load_rubric
from autograder.rubric.schema import compile_pattern

VALID = textwrap.dedent("""\
    version: "1"
    lab: demo
    synonyms:
      grad: ['gradient', 'derivative']
    questions:
      - grade_id: q_clip
        part: explain_defend
        max_points: 2
        question: Does clipping fix vanishing gradients?
        criteria:
          - id: exploding
            points: 1
            description: clipping fixes exploding gradients
            feedback:
              credited: Right.
              not_credited: Say which problem clipping fixes.
            patterns: ['clip ... explod']
            examples: ['Clipping fixes exploding gradients.']
          - id: not_vanishing
            points: 1
            description: not vanishing
            feedback:
              credited: Right.
              not_credited: Say whether it helps vanishing {grad}s.
            patterns: ['clip ... not ... vanish']
        misconceptions:
          - id: fixes_vanishing
            cap: 0
            description: clipping fixes vanishing
            feedback:
              present: It does not.
              absent: Fine.
            patterns: ['clip ... fix ... vanish']
    """)


def variant(old: str, new: str) -> str:
    """VALID with one edit; the old text is given with the indentation used in this file (4 more spaces)."""
    lines_old = [l[4:] if l.startswith("    ") else l for l in old.split("\n")]
    lines_new = [l[4:] if l.startswith("    ") else l for l in new.split("\n")]
    o, n = "\n".join(lines_old), "\n".join(lines_new)
    assert o in VALID, f"test bug: {o!r} not in VALID"
    return VALID.replace(o, n)


def write(tmp_path, text, name="rubric.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def error_for(tmp_path, text) -> RubricError:
    with pytest.raises(RubricError) as exc:
        load_rubric(write(tmp_path, text))
    return exc.value


def test_project_rubrics_load_and_cover_all_questions(rubric10, rubric11):
    assert rubric10.grade_ids == ("w10_predict_length", "w10_probe_length", "w10_explain_vanishing",
                                  "w10_explain_clipping", "w10_explain_weight_sharing")
    assert rubric11.grade_ids == ("w11_predict_length", "w11_predict_gates", "w11_probe_results",
                                  "w11_explain_ablation", "w11_explain_gradient_flow", "w11_explain_lstm_vs_gru",
                                  "w11_explain_teacher_forcing")
    for r in (rubric10, rubric11):
        assert isinstance(r.version, str) and r.version
        for q in r.questions:
            assert q.part in ("predict_probe", "explain_defend")
            assert abs(sum(c.points for c in q.criteria) - q.max_points) < 1e-9
            for it in q.items:
                assert it.feedback.shown_if_met and it.feedback.shown_if_not_met
                assert it.examples, f"{q.grade_id}.{it.id} has no examples"


def test_project_rubrics_lint_clean(rubric10, rubric11):
    """Every example is matched by a pattern and no counter-example is."""
    assert lint_rubric(rubric10) == []
    assert lint_rubric(rubric11) == []


def test_valid_minimal_rubric_loads(tmp_path):
    r = load_rubric(write(tmp_path, VALID))
    q = r.question("q_clip")
    assert [c.id for c in q.criteria] == ["exploding", "not_vanishing"]
    assert q.misconceptions[0].cap == 0


def test_unknown_key_is_reported_with_item_and_suggestion(tmp_path):
    e = error_for(tmp_path, variant("            patterns: ['clip ... explod']",
                                          "            pattern: ['clip ... explod']"))
    assert "rubric.yaml" in str(e) and "q_clip" in str(e) and "exploding" in str(e)
    assert "unknown key" in str(e) and "did you mean 'patterns'" in str(e)
    assert e.question == "q_clip" and e.item == "exploding" and e.line is not None


def test_missing_feedback_text(tmp_path):
    e = error_for(tmp_path, variant("              not_credited: Say which problem clipping fixes.\n", ""))
    assert "not_credited" in str(e) and "exploding" in str(e) and "feedback" in str(e)


def test_misconception_feedback_keys(tmp_path):
    e = error_for(tmp_path, variant("              absent: Fine.\n", ""))
    assert "'absent'" in str(e) and "fixes_vanishing" in str(e)


def test_invalid_regex(tmp_path):
    e = error_for(tmp_path, variant("['clip ... explod']", "['clip ... (explod']"))
    assert "not a valid regular expression" in str(e) and "exploding" in str(e)


def test_unknown_synonym(tmp_path):
    e = error_for(tmp_path, variant("['clip ... explod']", "['clip ... {boom}']"))
    assert "{boom}" in str(e) and "synonyms" in str(e)


def test_points_must_sum_to_max_points(tmp_path):
    e = error_for(tmp_path, variant("max_points: 2", "max_points: 3"))
    assert "add up to 2" in str(e) and "max_points is 3" in str(e) and "q_clip" in str(e)


def test_duplicate_item_ids(tmp_path):
    e = error_for(tmp_path, variant("- id: not_vanishing", "- id: exploding"))
    assert "used twice" in str(e) and "exploding" in str(e)


def test_duplicate_yaml_key_is_not_silently_overwritten(tmp_path):
    e = error_for(tmp_path, variant("            points: 1\n            description: not vanishing",
                                          "            points: 1\n            points: 2\n            description: not vanishing"))
    assert "appears twice" in str(e) and e.line is not None


def test_version_must_be_a_string(tmp_path):
    e = error_for(tmp_path, variant('version: "1"', "version: 1.10"))
    assert "quoted string" in str(e)


def test_pattern_matching_everything_is_rejected(tmp_path):
    e = error_for(tmp_path, variant("['clip ... explod']", "['.*']"))
    assert "empty answer" in str(e)


def test_cap_and_penalty_checks(tmp_path):
    e = error_for(tmp_path, variant("            cap: 0\n", "            cap: 5\n"))
    assert "cap" in str(e) and "max_points" in str(e)
    e = error_for(tmp_path, variant("            cap: 0\n", "            penalty: 1\n"))
    assert "penalty" in str(e)
    e = error_for(tmp_path, variant("            cap: 0\n", ""))
    assert "needs a negative 'penalty', a 'cap'" in str(e)


def test_bad_part_and_yaml_syntax(tmp_path):
    e = error_for(tmp_path, variant("part: explain_defend", "part: explain"))
    assert "'part' must be one of" in str(e)
    e = error_for(tmp_path, variant("    lab: demo", "    lab: [demo"))
    assert "not valid YAML" in str(e)


def test_example_listed_as_counter_example(tmp_path):
    e = error_for(tmp_path, variant("            examples: ['Clipping fixes exploding gradients.']",
                                          "            examples: ['Clipping fixes exploding gradients.']\n"
                                          "            counter_examples: ['Clipping fixes exploding gradients.']"))
    assert "both as an example and as a counter-example" in str(e)


def test_pattern_helpers():
    syn = {"grad": ("gradient", "derivative")}
    rx = compile_pattern("{grad} ... vanish", syn)
    assert rx.search("the gradient will quickly vanish")
    assert rx.search("the derivative vanishes")
    assert not rx.search("the gradient, as we saw, will vanish")  # ' ... ' stays inside one clause
    assert compile_pattern("{grad} .... vanish", syn).search("the gradient, as we saw, will vanish")
    assert compile_pattern("clip norm", {}).search("clipped norms")  # words match by prefix


def test_pattern_starting_with_a_symbol_and_optional_spaces():
    rx = compile_pattern("[<>]=? ?1\\b", {})
    assert rx.search("rho<1 -> vanishes") and rx.search("norm > 1 explodes") and not rx.search("rho<10")
    assert not compile_pattern("clip", {}).search("an eclipse")  # word patterns still start at a word
