"""Text handling for written answers: normalisation, sentences, clauses, negation.

Everything here is pure and deterministic. The scorer works on *normalised*
text: lower case, contractions expanded ("doesn't" -> "does not"), common
informal spellings mapped ("bc" -> "because", "grads" -> "gradients"), maths
symbols spelled out ("W_{hh}", "Whh" -> "w_hh"), Markdown and LaTeX markup
removed. Rubric patterns are written against this normalised form.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# --------------------------------------------------------------------------- normalisation

_CHAR_MAP = {
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00b4": "'", "`": "'",
    "\u2013": " - ", "\u2014": " - ", "\u2212": "-",
    "\u2192": " -> ", "\u21d2": " -> ", "\u27f6": " -> ", "\u2190": " <- ",
    "\u2248": " approx ", "\u2264": " <= ", "\u2265": " >= ", "\u2260": " != ",
    "\u2202": "d", "\u2207": "grad ", "\u2299": "*", "\u00b7": "*", "\u00d7": "*", "\u2218": "*",
    "\u03c1": "rho", "\u03bb": "lambda", "\u03c3": "sigma", "\u03b8": "theta", "\u03b1": "alpha",
    "\u2211": "sum ", "\u220f": "product ",
}

# Informal / shorthand spellings, whole words only (applied after lower-casing).
_WORD_MAP = {
    "bc": "because", "b/c": "because", "cuz": "because", "coz": "because", "cos": "because",
    "u": "you", "ur": "your", "thru": "through", "tho": "though", "w/o": "without",
    "w/": "with", "grads": "gradients", "grad": "gradient", "approx": "approximately",
    "nope": "no", "nah": "no", "yep": "yes", "yeah": "yes", "ok": "ok", "params": "parameters",
    "param": "parameter", "prev": "previous", "lstms": "lstms", "rnns": "rnns",
    "didnt": "did not", "doesnt": "does not", "dont": "do not", "cant": "can not",
    "wont": "will not", "isnt": "is not", "arent": "are not", "wasnt": "was not",
    "werent": "were not", "shouldnt": "should not", "couldnt": "could not", "wouldnt": "would not",
    "hasnt": "has not", "havent": "have not", "aint": "is not",
    "cannot": "can not", "gonna": "going to", "gotta": "got to", "wanna": "want to",
    "&": "and", "w.r.t.": "with respect to", "wrt": "with respect to",
    "e.g.": "for example", "eg": "for example", "i.e.": "that is", "ie": "that is",
    "vs": "versus", "vs.": "versus", "acc": "accuracy",
}

_CONTRACTIONS = [
    (re.compile(r"\bcan'?t\b"), "can not"),
    (re.compile(r"\bwon'?t\b"), "will not"),
    (re.compile(r"\bshan't\b"), "shall not"),
    (re.compile(r"\b(\w+)n't\b"), r"\1 not"),
    (re.compile(r"\b(it|that|there|what|here|this|who|he|she)'s\b"), r"\1 is"),
    (re.compile(r"\b(\w+)'re\b"), r"\1 are"),
    (re.compile(r"\b(\w+)'ll\b"), r"\1 will"),
    (re.compile(r"\b(\w+)'ve\b"), r"\1 have"),
    (re.compile(r"\bi'm\b"), "i am"),
    (re.compile(r"\b(i|you|we|they|he|she|it)'d\b"), r"\1 would"),
]

# Weight-matrix spellings: W_{hh}, W_hh, Whh, W_hh^T, W hh -> w_hh (and w_xh).
_WEIGHT_RE = re.compile(r"\bw\s*_?\s*\{?\s*(hh|xh|ih|hx)\s*\}?(?:\s*\^\s*\{?t\}?)?(?![a-z])")
_LATEX_CMD = re.compile(r"\\(mathbf|mathrm|text|operatorname|left|right|cdot|odot|times|partial|sigma|tanh|approx|le|ge|leq|geq|to|rightarrow|lambda|rho)\b")
_MARKDOWN = re.compile(r"(\*\*|__|~~|#+\s|^\s*>\s?)", re.M)
_BULLET = re.compile(r"^\s*(?:[-*+\u2022]|\d+[.)])\s+", re.M)
_SPACES = re.compile(r"[ \t\f\v]+")


def _map_word(token: str) -> str:
    if token in _WORD_MAP:
        return _WORD_MAP[token]
    core = token.rstrip(",.;:!?)")
    if core and core in _WORD_MAP:
        return _WORD_MAP[core] + token[len(core):]
    return token


def normalize(text: str | None) -> str:
    """Lower-case, markup-free, contraction-expanded form of an answer (newlines kept)."""
    if not text:
        return ""
    t = unicodedata.normalize("NFKC", str(text))
    for a, b in _CHAR_MAP.items():
        t = t.replace(a, b)
    t = t.lower()
    t = _LATEX_CMD.sub(lambda m: {"cdot": "*", "odot": "*", "times": "*", "partial": "d",
                                  "approx": " approx ", "to": " -> ", "rightarrow": " -> ",
                                  "le": " <= ", "leq": " <= ", "ge": " >= ", "geq": " >= ",
                                  "sigma": "sigma", "tanh": "tanh", "lambda": "lambda",
                                  "rho": "rho"}.get(m.group(1), " "), t)
    t = t.replace("$", " ").replace("\\", " ")
    t = _BULLET.sub("\n", t)
    t = _MARKDOWN.sub(" ", t)
    t = _WEIGHT_RE.sub(lambda m: f"w_{m.group(1).replace('ih', 'xh').replace('hx', 'xh')}", t)
    for rx, rep in _CONTRACTIONS:
        t = rx.sub(rep, t)
    t = re.sub(r"=>|==>|-->", " -> ", t)
    t = re.sub(r"(?<=\w)'(?=\s|$)", "' ", t)  # tanh' stays one token
    out_lines = []
    for line in t.split("\n"):
        out_lines.append(" ".join(_map_word(w) for w in line.split()))
    t = "\n".join(out_lines)
    t = _SPACES.sub(" ", t)
    t = re.sub(r"\n\s*\n+", "\n", t)
    return t.strip()


# --------------------------------------------------------------------------- sentences, clauses

_ABBREV = re.compile(r"\b(e\.g|i\.e|etc|vs|cf|approx|fig|eq|resp)\.", re.I)


def split_sentences(norm: str) -> list[str]:
    """Sentences of a normalised answer (newlines and . ! ? end a sentence; 0.9 and e.g. do not)."""
    if not norm:
        return []
    protected = _ABBREV.sub(lambda m: m.group(0).replace(".", "\x00"), norm)
    # a full stop ends a sentence unless it sits between two digits (0.9, 1e-3.5)
    parts = re.split(r"(?<!\d)[.!?]+(?=\s|$)|(?<=\d)[.!?]+(?=\s+[a-z(]|$)|\n+", protected)
    out = []
    for p in parts:
        p = p.replace("\x00", ".").strip(" \t-;:,")
        if p and re.search(r"[a-z0-9]", p):
            out.append(p)
    return out


# Words and punctuation that end the scope of a negation.
CLAUSE_BOUNDARY = re.compile(
    r"[,;:()\[\]]|\s-\s|\s->\s|\b(?:but|however|whereas|while|although|though|instead|yet|"
    r"so|and|then|thus|hence|therefore|which|whereas|otherwise)\b"
)

NEGATION = re.compile(
    r"\b(?:not|no|never|none|nothing|neither|nor|without|cannot|hardly|"
    r"instead of|rather than|as opposed to|unlike|fails? to|failed to|lacks?|"
    r"nobody|nowhere)\b"
)
# Phrases that contain a negation word but do not negate.
NOT_NEGATION = re.compile(
    r"\b(?:not only|not just|no matter|nothing but|not necessarily|no doubt|"
    r"not to mention|not surprisingly|no wonder)\b"
)
# Phrases that report a claim in order to reject it (used for misconceptions).
DISAVOWAL = re.compile(
    r"\b(?:misconceptions?|myths?|wrong|false|incorrect|not true|not the case|"
    r"(?:people|students|many|some|others|one)\s+(?:often\s+|sometimes\s+|usually\s+|might\s+|may\s+|would\s+)?"
    r"(?:think|thinks|say|says|believe|believes|claim|claims|assume|assumes)|"
    r"it is tempting|contrary to|used to think|mistaken(?:ly)?)\b"
)


# Hypothetical framing: "if every step had its own weights, ...", "... would be impossible".
HYPOTHETICAL = re.compile(r"\b(?:if|would|suppose|imagine|impossible|otherwise|whether)\b")


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def negation_spans(sentence: str) -> list[Span]:
    """Character spans of negation cues in a normalised sentence (non-negating idioms removed)."""
    blocked = [Span(m.start(), m.end()) for m in NOT_NEGATION.finditer(sentence)]
    spans = []
    for m in NEGATION.finditer(sentence):
        if any(b.start <= m.start() < b.end for b in blocked):
            continue
        spans.append(Span(m.start(), m.end()))
    return spans


def clause_start(sentence: str, pos: int) -> int:
    """Start of the clause that contains character ``pos``."""
    start = 0
    for m in CLAUSE_BOUNDARY.finditer(sentence, 0, pos):
        if m.end() <= pos:
            start = m.end()
    return start


def is_disavowed(sentence: str) -> bool:
    return DISAVOWAL.search(sentence) is not None


def is_hypothetical(sentence: str, before: int) -> bool:
    """A hypothetical/counterfactual frame before position ``before`` or a "would" anywhere."""
    m = HYPOTHETICAL.search(sentence, 0, before)
    return m is not None or re.search(r"\b(?:would|impossible)\b", sentence) is not None


# --------------------------------------------------------------------------- tokens, stems, structure

WORD_RE = re.compile(r"[a-z][a-z0-9_']*|\d+(?:[./]\d+)?")

FUNCTION_WORDS = frozenset("""
a an the this that these those it its they them their there here we our you your i my me he she his her
is are was were be been being am has have had having do does did doing will would can could should shall may
might must of to in on at by for with from into onto over under than then as so because since if when while
which who whom whose what where why how and or but nor not no never each every all any some more less most
least only just also too very much many few such both either neither through across between after before
during until about against among per via once again still even yet though although whereas instead rather
""".split())

# Verbs that typically carry an explanation in these answers (besides auxiliaries above).
RELATION_VERBS = re.compile(
    r"\b(?:cause|make|lead|let|keep|decide|control|multipl|shrink|grow|vanish|explode|blow|decay|"
    r"reuse|share|use|appl|pass|flow|preserv|fix|solve|help|cap|rescal|scal|limit|need|requir|"
    r"feed|give|get|write|expose|forget|remember|store|carr|merg|learn|train|fail|drop|fall|"
    r"go|went|reach|show|match|predict|expect|think|hurt|depend|become|stay|remain|happen|"
    r"add|chop|die|tank|flop|wreck|beat|win|work|behave|take|put|mean|turn|look|seem|draw|"
    r"compute|produce|replace|consume|accumulat|compound|snowball|differ)\w*\b"
)
_NOUNISH = ("ing", "ion", "ions", "ive", "ment", "ure", "ness", "ity", "ance", "ence", "ings", "encies", "ancies")
OPERATORS = re.compile(r"->|<-|=|<|>|\^|\*|\+")


def words(norm: str) -> list[str]:
    return WORD_RE.findall(norm)


_SUFFIXES = ("ational", "ization", "ations", "ation", "ements", "ement", "iness", "ingly", "ities",
             "ively", "ness", "ment", "ings", "ing", "edly", "ies", "ied", "ers", "ed", "es", "ly",
             "er", "s")


def stem(word: str) -> str:
    """Stemming-lite: strip one common English suffix, keeping at least 4 characters."""
    w = word.lower()
    for suf in _SUFFIXES:
        if w.endswith(suf) and len(w) - len(suf) >= 4:
            w = w[: -len(suf)]
            break
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    return w


def content_stems(norm: str) -> list[str]:
    return [stem(w) for w in words(norm) if w not in FUNCTION_WORDS and not w[0].isdigit()]


@dataclass(frozen=True)
class Structure:
    """How much sentence structure an answer has (for the keyword-salad guard)."""

    n_words: int
    n_fragments: int
    short_fragments: int  # fragments of at most 3 words with no verb/operator linking them
    function_ratio: float
    keyword_density: float  # share of content words that are rubric vocabulary
    is_salad: bool
    borderline: bool


def structure(norm: str, rubric_vocab: frozenset[str]) -> Structure:
    toks = words(norm)
    n = len(toks)
    frags = [f.strip() for f in re.split(r"[,;\n]|(?<!\d)[.!?](?!\d)|\s-\s", norm) if f.strip()]
    frags = [f for f in frags if words(f)]

    def has_verb(f: str) -> bool:
        # in keyword lists these stems are mostly nouns: "clipping", "prediction", "additive", "forget gate"
        for m in RELATION_VERBS.finditer(f):
            w = m.group(0)
            if w.endswith(_NOUNISH) or f[m.end():].lstrip().startswith("gate"):
                continue
            return True
        return False

    def linked(f: str) -> bool:
        # a clause: an arrow, or a verb with at least two other words, or 4+ words with a function word
        w = words(f)
        has_fn = sum(1 for x in w if x in FUNCTION_WORDS and x not in {"and", "or"})
        return bool("->" in f or (len(w) >= 3 and has_verb(f)) or (len(w) >= 4 and has_fn >= 1))

    def numeric(f: str) -> bool:
        return bool(re.search(r"\d", f))

    short = sum(1 for f in frags if len(words(f)) <= 3 and not linked(f) and not numeric(f))
    numbers = len(re.findall(r"\d+(?:[./]\d+)?", norm))
    fn = sum(1 for w in toks if w in FUNCTION_WORDS)
    content = [stem(w) for w in toks if w not in FUNCTION_WORDS and not w[0].isdigit()]
    density = (sum(1 for c in content if c in rubric_vocab) / len(content)) if content else 0.0
    ratio = fn / n if n else 0.0
    many = len(frags) >= 4 and numbers < 3   # a list of results (numbers) is data, not salad
    share = short / max(1, len(frags))
    salad = many and share >= 0.7 and density >= 0.5 and ratio < 0.15
    borderline = (not salad) and many and share >= 0.5 and density >= 0.5 and ratio < 0.2
    return Structure(n, len(frags), short, round(ratio, 4), round(density, 4), salad, borderline)


_EMPTY = re.compile(
    r"^(?:n/?a|none|nothing|todo|tbd|idk|i do not know|no idea|not sure|\?+|-+|\.+|"
    r"your answer here|type your answer here|answer|x)$"
)


def is_empty_answer(norm: str) -> bool:
    """True for blank answers and placeholders ("TODO", "n/a", "I don't know")."""
    t = norm.strip(" .!?\n\t-")
    if not t:
        return True
    if len(words(t)) == 0:
        return True
    return _EMPTY.match(t) is not None
