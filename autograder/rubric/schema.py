"""Rubric files: loading, validation and the typed model the scorer uses.

A rubric is plain YAML that an instructor edits (see ``docs/rubrics.md`` and the
commented files in ``rubrics/``). ``load_rubric(path)`` validates everything
an edit can break and raises :class:`RubricError` with the file, line, question
and item in the message, e.g.::

    rubrics/week10_rnn.yaml, line 88, question 'w10_explain_clipping', item 'caps_exploding':
    'feedback' needs a non-empty 'not_credited' text (shown when the item is not credited)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PARTS = ("predict_probe", "explain_defend")
ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
MACRO_RE = re.compile(r"\{([a-z][a-z0-9_]*)\}")
GAP = " ... "
LONG_GAP = " .... "
# up to 6 words, staying inside the clause (no , ; . and no but/however/whereas/although)
GAP_RE = (r"\w*[^\w,;.!?]+(?:(?!(?:but|however|whereas|although|though|instead)\b)"
          r"[\w'^/*=<>+-]+[^\w,;.!?]+){0,6}?")
# up to 12 words, crossing commas but not ; : . ! ?
LONG_GAP_RE = r"\w*[^\w;:.!?]+(?:[\w'^/*=<>+-]+[^\w;:.!?]+){0,12}?"

TOP_KEYS = {"version", "lab", "title", "synonyms", "calibration", "questions"}
QUESTION_KEYS = {"grade_id", "part", "max_points", "question", "criteria", "misconceptions",
                 "calibration", "notes"}
CRITERION_KEYS = {"id", "description", "points", "feedback", "patterns", "examples",
                  "counter_examples", "negation", "calibration", "notes"}
MISCONCEPTION_KEYS = {"id", "description", "penalty", "cap", "feedback", "patterns", "examples",
                      "counter_examples", "unless_patterns", "negation", "calibration", "notes"}
NEGATION_MODES = ("respect", "ignore")
CALIBRATION_KEYS = {"threshold", "band", "margin"}
FEEDBACK_KEYS = {"criterion": ("credited", "not_credited"), "misconception": ("present", "absent")}


class RubricError(ValueError):
    """An instructor-facing problem in a rubric file."""

    def __init__(self, message: str, path: str | Path | None = None, question: str | None = None,
                 item: str | None = None, line: int | None = None):
        self.path = str(path) if path is not None else None
        self.question = question
        self.item = item
        self.line = line
        self.detail = message
        where = []
        if self.path:
            where.append(self.path)
        if line:
            where.append(f"line {line}")
        if question:
            where.append(f"question {question!r}")
        if item:
            where.append(f"item {item!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Calibration:
    """Semantic-similarity thresholds for one embedding model.

    An answer sentence whose (polarity-adjusted) similarity to the item's examples
    is at least ``threshold + band`` is semantic evidence for the item; below
    ``threshold - band`` it is evidence against; in between the decision goes to
    review. ``margin``: how much closer to the examples than to the
    counter-examples a sentence must be.
    """

    threshold: float
    band: float
    margin: float = 0.03


@dataclass(frozen=True)
class Feedback:
    shown_if_met: str      # criterion: credited; misconception: present
    shown_if_not_met: str  # criterion: not_credited; misconception: absent


@dataclass(frozen=True)
class Item:
    id: str
    kind: str  # "criterion" | "misconception"
    description: str
    feedback: Feedback
    patterns: tuple[str, ...]
    compiled: tuple[re.Pattern, ...]
    examples: tuple[str, ...] = ()
    counter_examples: tuple[str, ...] = ()
    points: float = 0.0           # criterion: points when credited
    penalty: float = 0.0          # misconception: (negative) points when present
    cap: float | None = None      # misconception: the question total is at most this
    unless_patterns: tuple[str, ...] = ()
    unless_compiled: tuple[re.Pattern, ...] = ()
    negation: str = "respect"     # "ignore": a negated match still counts (e.g. "it will not vanish" is a prediction)
    calibration: dict[str, dict[str, float]] = field(default_factory=dict)
    line: int | None = None

    @property
    def max_points(self) -> float:
        return self.points if self.kind == "criterion" else 0.0


@dataclass(frozen=True)
class Question:
    grade_id: str
    part: str
    max_points: float
    question: str
    criteria: tuple[Item, ...]
    misconceptions: tuple[Item, ...]
    calibration: dict[str, dict[str, float]] = field(default_factory=dict)
    line: int | None = None

    @property
    def items(self) -> tuple[Item, ...]:
        return self.criteria + self.misconceptions

    def item(self, item_id: str) -> Item:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(f"{self.grade_id}: no rubric item {item_id!r}")


@dataclass(frozen=True)
class Rubric:
    version: str
    lab: str
    path: str
    questions: tuple[Question, ...]
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    calibration: dict[str, dict[str, float]] = field(default_factory=dict)

    def question(self, grade_id: str) -> Question:
        for q in self.questions:
            if q.grade_id == grade_id:
                return q
        known = ", ".join(q.grade_id for q in self.questions)
        raise KeyError(f"{self.path}: no question {grade_id!r} (rubric has: {known})")

    @property
    def grade_ids(self) -> tuple[str, ...]:
        return tuple(q.grade_id for q in self.questions)

    def calibration_for(self, embedder: str, question: Question, item: Item) -> Calibration:
        """Thresholds for ``item`` under ``embedder``: item overrides question overrides file."""
        merged: dict[str, float] = dict(DEFAULT_CALIBRATION)
        for layer in (self.calibration, question.calibration, item.calibration):
            merged.update(layer.get("default", {}))
            merged.update(layer.get(embedder, {}))
        return Calibration(float(merged["threshold"]), float(merged["band"]), float(merged["margin"]))


DEFAULT_CALIBRATION = {"threshold": 0.6, "band": 0.06, "margin": 0.03}


# --------------------------------------------------------------------------- YAML with line numbers


class _LineDict(dict):
    line: int | None = None


class _LineList(list):
    line: int | None = None


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    out = _LineDict()
    out.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise RubricError(f"key {key!r} appears twice in the same block (the second would silently replace the first)",
                              line=key_node.start_mark.line + 1)
        out[key] = loader.construct_object(value_node, deep=True)
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> _LineList:
    out = _LineList(loader.construct_object(n, deep=True) for n in node.value)
    out.line = node.start_mark.line + 1
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


# --------------------------------------------------------------------------- pattern compilation


def expand_pattern(pattern: str, synonyms: dict[str, tuple[str, ...]]) -> str:
    """Turn a rubric pattern into a Python regular expression.

    - ``{name}`` becomes the alternatives listed under ``synonyms: name:``;
    - `` ... `` (space, three dots, space) allows up to 6 words in between, inside
      one clause (it does not cross , ; or "but"); `` .... `` (four dots)
      allows up to 12 words, crossing commas (not ; or :);
    - a space followed by ?, *, + or {m,n} is a literal (optional) space;
    - any other space between words allows the first word to continue ("clip norm"
      matches "clipping the norm" only with ``...``, but "clip norm" matches
      "clipped norm"): words in patterns match any word that starts with them;
      end a word with ``\\b`` to require the whole word.
    """

    def macro(m: re.Match) -> str:
        name = m.group(1)
        if name not in synonyms:
            raise KeyError(name)
        return "(?:" + "|".join(synonyms[name]) + ")"

    body = MACRO_RE.sub(macro, pattern.strip())
    body = body.replace(LONG_GAP, LONG_GAP_RE).replace(GAP, GAP_RE)
    # spaces outside [...] and {...} let the preceding word continue
    out, depth_sq, depth_br = [], 0, 0
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            out.append(body[i:i + 2])
            i += 2
            continue
        if c == "[":
            depth_sq += 1
        elif c == "]" and depth_sq:
            depth_sq -= 1
        elif c == "{" and not depth_sq:
            depth_br += 1
        elif c == "}" and depth_br:
            depth_br -= 1
        if c == " " and not depth_sq and not depth_br and body[i + 1:i + 2] not in ("?", "*", "+", "{"):
            out.append(r"\w*\W+")
        else:
            out.append(c)
        i += 1
    # a pattern starts at a word start ("clip" does not match "eclipse"); one that starts with a
    # symbol ("[<>] ?1", "\\+ ?i") may start anywhere ("rho<1")
    return r"(?:(?<![\w])|(?=[^\w\s]))" + "".join(out)


def compile_pattern(pattern: str, synonyms: dict[str, tuple[str, ...]]) -> re.Pattern:
    return re.compile(expand_pattern(pattern, synonyms), re.IGNORECASE)


# --------------------------------------------------------------------------- validation


def _fail(msg: str, ctx: dict, node: Any = None) -> RubricError:
    line = getattr(node, "line", None) or ctx.get("line")
    return RubricError(msg, ctx.get("path"), ctx.get("question"), ctx.get("item"), line)


def _check_keys(d: dict, allowed: set[str], what: str, ctx: dict) -> None:
    unknown = sorted(set(d) - allowed)
    if unknown:
        hint = ""
        for u in unknown:
            close = [a for a in allowed if a.rstrip("s") == str(u).rstrip("s") or a.replace("_", "") == str(u).replace("_", "")]
            if close:
                hint = f" (did you mean {close[0]!r}?)"
        raise _fail(f"unknown key(s) {unknown} in {what}{hint}; allowed: {sorted(allowed)}", ctx, d)


def _number(value: Any, name: str, ctx: dict, node: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(f"{name!r} must be a number, got {value!r}", ctx, node)
    return float(value)


def _text(value: Any, name: str, ctx: dict, node: Any, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise _fail(f"{name!r} must be a non-empty text", ctx, node)
    return value.strip()


def _text_list(value: Any, name: str, ctx: dict, node: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise _fail(f"{name!r} must be a list of texts", ctx, node)
    out = []
    for i, v in enumerate(value):
        if not isinstance(v, str) or not v.strip():
            raise _fail(f"{name!r} entry {i + 1} must be a non-empty text, got {v!r}", ctx, value)
        out.append(v.strip())
    dupes = sorted({v for v in out if out.count(v) > 1})
    if dupes:
        raise _fail(f"{name!r} lists {dupes[0]!r} twice", ctx, value)
    return tuple(out)


def _calibration(value: Any, ctx: dict, node: Any) -> dict[str, dict[str, float]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail("'calibration' must map an embedding model name (or 'default') to {threshold, band, margin}", ctx, node)
    out = {}
    for model, entry in value.items():
        if not isinstance(entry, dict):
            raise _fail(f"calibration for {model!r} must be a mapping with threshold/band/margin", ctx, value)
        _check_keys(entry, CALIBRATION_KEYS, f"calibration for {model!r}", ctx)
        vals = {}
        for k, v in entry.items():
            x = _number(v, f"calibration.{model}.{k}", ctx, entry)
            if k == "threshold" and not -1.0 <= x <= 1.0:
                raise _fail(f"calibration.{model}.threshold must be a cosine similarity in [-1, 1], got {x}", ctx, entry)
            if k in ("band", "margin") and not 0.0 <= x <= 0.5:
                raise _fail(f"calibration.{model}.{k} must be in [0, 0.5], got {x}", ctx, entry)
            vals[k] = x
        out[str(model)] = vals
    return out


def _compile_all(patterns: tuple[str, ...], name: str, synonyms: dict, ctx: dict, node: Any) -> tuple[re.Pattern, ...]:
    compiled = []
    for p in patterns:
        try:
            compiled.append(compile_pattern(p, synonyms))
        except KeyError as e:
            known = ", ".join(sorted(synonyms)) or "none defined"
            raise _fail(f"{name} {p!r} uses {{{e.args[0]}}}, which is not defined under 'synonyms' (defined: {known})", ctx, node) from None
        except re.error as e:
            raise _fail(f"{name} {p!r} is not a valid regular expression: {e}", ctx, node) from None
        if compiled[-1].search(""):
            raise _fail(f"{name} {p!r} matches an empty answer; it would credit everyone", ctx, node)
    return tuple(compiled)


def _item(raw: Any, kind: str, synonyms: dict, ctx: dict, max_points: float) -> Item:
    if not isinstance(raw, dict):
        raise _fail(f"each {kind} must be a mapping with at least 'id', got {raw!r}", ctx, raw)
    ctx = dict(ctx, line=getattr(raw, "line", ctx.get("line")))
    item_id = raw.get("id")
    if not isinstance(item_id, str) or not ID_RE.match(item_id):
        raise _fail(f"{kind} needs an 'id' of lower-case letters, digits and underscores, got {item_id!r}", ctx, raw)
    ctx["item"] = item_id
    _check_keys(raw, CRITERION_KEYS if kind == "criterion" else MISCONCEPTION_KEYS, f"a {kind}", ctx)
    description = _text(raw.get("description"), "description", ctx, raw)
    fb = raw.get("feedback")
    want = FEEDBACK_KEYS[kind]
    if not isinstance(fb, dict):
        raise _fail(f"'feedback' is missing: give a mapping with {want[0]!r} and {want[1]!r} texts (shown to the student)", ctx, raw)
    _check_keys(fb, set(want), "feedback", ctx)
    for k in want:
        if not isinstance(fb.get(k), str) or not fb.get(k, "").strip():
            shown = {"credited": "when the item is credited", "not_credited": "when the item is not credited",
                     "present": "when the misconception is found", "absent": "when it is not found"}[k]
            raise _fail(f"'feedback' needs a non-empty {k!r} text (shown {shown})", ctx, fb)
    feedback = Feedback(fb[want[0]].strip(), fb[want[1]].strip())
    patterns = _text_list(raw.get("patterns"), "patterns", ctx, raw)
    examples = _text_list(raw.get("examples"), "examples", ctx, raw)
    counter = _text_list(raw.get("counter_examples"), "counter_examples", ctx, raw)
    if not patterns and not examples:
        raise _fail("give at least one of 'patterns' or 'examples' (otherwise nothing can ever match)", ctx, raw)
    both = sorted(set(examples) & set(counter))
    if both:
        raise _fail(f"{both[0]!r} is listed both as an example and as a counter-example", ctx, raw)
    compiled = _compile_all(patterns, "pattern", synonyms, ctx, raw.get("patterns", raw))
    calibration = _calibration(raw.get("calibration"), ctx, raw)
    negation = raw.get("negation", "respect")
    if negation not in NEGATION_MODES:
        raise _fail(f"'negation' must be one of {list(NEGATION_MODES)}, got {negation!r}", ctx, raw)
    if kind == "criterion":
        if "points" not in raw:
            raise _fail("criterion needs 'points' (a positive number)", ctx, raw)
        points = _number(raw["points"], "points", ctx, raw)
        if points <= 0:
            raise _fail(f"'points' must be positive, got {points:g} (use a misconception for deductions)", ctx, raw)
        return Item(item_id, kind, description, feedback, patterns, compiled, examples, counter,
                    points=points, negation=negation, calibration=calibration, line=ctx.get("line"))
    penalty = _number(raw.get("penalty", 0), "penalty", ctx, raw)
    if penalty > 0:
        raise _fail(f"'penalty' must be zero or negative (points taken off), got {penalty:g}", ctx, raw)
    cap = raw.get("cap")
    if cap is not None:
        cap = _number(cap, "cap", ctx, raw)
        if not 0 <= cap < max_points:
            raise _fail(f"'cap' must be at least 0 and below the question's max_points ({max_points:g}), got {cap:g}", ctx, raw)
    if penalty == 0 and cap is None:
        raise _fail("a misconception needs a negative 'penalty', a 'cap' on the question total, or both", ctx, raw)
    unless = _text_list(raw.get("unless_patterns"), "unless_patterns", ctx, raw)
    unless_compiled = _compile_all(unless, "unless_pattern", synonyms, ctx, raw)
    return Item(item_id, kind, description, feedback, patterns, compiled, examples, counter,
                penalty=penalty, cap=cap, unless_patterns=unless, unless_compiled=unless_compiled,
                negation=negation, calibration=calibration, line=ctx.get("line"))


def _synonyms(raw: Any, ctx: dict) -> dict[str, tuple[str, ...]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _fail("'synonyms' must map a name to a list of alternatives", ctx, raw)
    out = {}
    for name, alts in raw.items():
        if not isinstance(name, str) or not ID_RE.match(name):
            raise _fail(f"synonym name {name!r} must be lower-case letters, digits and underscores", ctx, raw)
        alts_t = _text_list(alts, f"synonyms.{name}", ctx, raw)
        if not alts_t:
            raise _fail(f"synonym {name!r} has no alternatives", ctx, raw)
        for a in alts_t:
            if MACRO_RE.search(a):
                raise _fail(f"synonym {name!r}: alternatives cannot use other synonyms ({a!r})", ctx, raw)
            try:
                re.compile(a)
            except re.error as e:
                raise _fail(f"synonym {name!r}: {a!r} is not a valid regular expression: {e}", ctx, raw) from None
        out[name] = alts_t
    return out


def parse_rubric(data: Any, path: str | Path = "<rubric>") -> Rubric:
    ctx: dict = {"path": str(path)}
    if not isinstance(data, dict):
        raise _fail("a rubric file must be a mapping with 'version', 'lab' and 'questions'", ctx, data)
    _check_keys(data, TOP_KEYS, "the top level", ctx)
    version = data.get("version")
    if version is None:
        raise _fail("'version' is missing: add e.g. version: \"2025.1\" and bump it whenever grades could change", ctx, data)
    if not isinstance(version, str):
        raise _fail(f"'version' must be a quoted string (e.g. \"{version}\"), so that 1.10 is not read as 1.1", ctx, data)
    lab = _text(data.get("lab"), "lab", ctx, data)
    synonyms = _synonyms(data.get("synonyms"), ctx)
    calibration = _calibration(data.get("calibration"), ctx, data)
    qs_raw = data.get("questions")
    if not isinstance(qs_raw, list) or not qs_raw:
        raise _fail("'questions' must be a non-empty list", ctx, data)
    questions = []
    seen: set[str] = set()
    for raw in qs_raw:
        qctx = dict(ctx, line=getattr(raw, "line", None))
        if not isinstance(raw, dict):
            raise _fail(f"each question must be a mapping, got {raw!r}", qctx, raw)
        gid = raw.get("grade_id")
        if not isinstance(gid, str) or not ID_RE.match(gid):
            raise _fail(f"question needs a 'grade_id' (the notebook cell's grade_id), got {gid!r}", qctx, raw)
        qctx["question"] = gid
        if gid in seen:
            raise _fail("grade_id appears twice in this rubric", qctx, raw)
        seen.add(gid)
        _check_keys(raw, QUESTION_KEYS, "a question", qctx)
        part = raw.get("part")
        if part not in PARTS:
            raise _fail(f"'part' must be one of {list(PARTS)}, got {part!r}", qctx, raw)
        if "max_points" not in raw:
            raise _fail("'max_points' is missing", qctx, raw)
        max_points = _number(raw["max_points"], "max_points", qctx, raw)
        if max_points <= 0:
            raise _fail(f"'max_points' must be positive, got {max_points:g}", qctx, raw)
        text = _text(raw.get("question"), "question", qctx, raw)
        crit_raw = raw.get("criteria")
        if not isinstance(crit_raw, list) or not crit_raw:
            raise _fail("'criteria' must be a non-empty list", qctx, raw)
        mis_raw = raw.get("misconceptions") or []
        if not isinstance(mis_raw, list):
            raise _fail("'misconceptions' must be a list (or left out)", qctx, raw)
        criteria = tuple(_item(c, "criterion", synonyms, qctx, max_points) for c in crit_raw)
        misconceptions = tuple(_item(m, "misconception", synonyms, qctx, max_points) for m in mis_raw)
        ids = [i.id for i in criteria + misconceptions]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            it = next(i for i in criteria + misconceptions if i.id == dup[0])
            raise _fail("this id is used twice in the question (criteria and misconceptions share one namespace)",
                        dict(qctx, item=dup[0], line=it.line), raw)
        total = sum(c.points for c in criteria)
        if abs(total - max_points) > 1e-9:
            listing = " + ".join(f"{c.id} {c.points:g}" for c in criteria)
            raise _fail(f"criteria points add up to {total:g} ({listing}) but max_points is {max_points:g}", qctx, raw)
        questions.append(Question(gid, part, max_points, text, criteria, misconceptions,
                                  _calibration(raw.get("calibration"), qctx, raw), qctx.get("line")))
    return Rubric(version, lab, str(path), tuple(questions), synonyms, calibration)


def load_rubric(path: str | Path) -> Rubric:
    """Read and validate a rubric file; raises :class:`RubricError` on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise RubricError(f"cannot read rubric: {e.strerror or e}", path) from None
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    except RubricError as e:
        raise RubricError(e.detail, path, line=e.line) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e)
        raise RubricError(f"not valid YAML: {problem} (check indentation and quotes)", path,
                          line=mark.line + 1 if mark else None) from None
    return parse_rubric(data, path)
