"""A realistic, deterministic sample class for the labs: what ``make demo`` grades.

Every notebook is built from the lab's *release* notebook (the student version,
so locked cells carry the release's checksums) by filling its answer cells by
``grade_id``:

* code answers come from the solution notebook, from a fair variant of the
  corpus (``tests/corpus/fair/<lab>/``: a correct alternative) or from a mutant
  (``tests/corpus/mutations/<lab>.yaml``: a realistic bug);
* written answers come from the labelled answers of
  ``tests/data/rubric_eval/<lab>.yaml`` (full, partial, misconception,
  paraphrase, keyword salad, empty, ...), chosen by a per-student profile.

A class of 20 (the default) holds every category once: fully correct students
(some with fair variants), students with one or two typical bugs, a stub (the
untouched release: handed in nothing), and hostile submissions (an infinite
loop, a fake "All tests passed 100/100" print plus HTML in a written answer,
monkeypatched ``torch.allclose`` and builtins, an edited locked cell, a
duplicated answer cell, a deleted answer cell, a file that is not JSON, the
other lab's notebook). Larger classes cycle the categories (``build_class``).

Layouts (the three the grader accepts): ``folder`` (``<student_id>.ipynb``),
``nbgrader`` (``<student_id>/<lab>.ipynb`` + ``timestamp.txt``) and ``canvas``
(an LMS bulk-download zip, ``doe_jane_12345_67890_<lab>.ipynb``, one student
with ``-1``/``-2`` resubmissions where the latest counts, one late).

A manifest says for each student what they are and what the grader should
conclude (``expect``), so tests can assert it::

    python -m autograder.demo.sample_class --out demo-out/sample [--students 20] [--seed 0]

writes ``week10_rnn/submissions.zip`` (Canvas), ``week11_gated/submitted/``
(nbgrader) and ``manifest.json``.
"""
from __future__ import annotations

import argparse
import copy
import io
import json
import random
import re
import sys
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import nbformat
import yaml

from autograder.authoring import cells as C
from autograder.config import REPO_ROOT, CourseConfig, load_config
from autograder.labs import Lab, load_lab

DATA_DIR = REPO_ROOT / "tests" / "data" / "rubric_eval"
DEFAULT_LAYOUTS = {"week10_rnn": "canvas", "week11_gated": "nbgrader"}
LAYOUTS = ("folder", "nbgrader", "canvas")
STUB_ANSWER = "YOUR ANSWER HERE"

# (category, written-answer profile), one class of 20; larger classes cycle it.
PLAN: tuple[tuple[str, str | None], ...] = (
    ("correct", "strong"),
    ("fair", "strong"),
    ("fair", "good"),
    ("fair", "misconception"),
    ("correct", "paraphrase"),
    ("mutant", "good"),
    ("mutant", "mixed"),
    ("mutant", "misconception"),
    ("mutant", "weak"),
    ("mutant2", "mixed"),
    ("mutant2", "misconception"),
    ("stub", None),
    ("hostile:infinite_loop", "mixed"),
    ("hostile:fake_pass", "weak"),
    ("hostile:monkeypatch", "good"),
    ("hostile:tampered_locked", "strong"),
    ("hostile:duplicated_cell", "good"),
    ("hostile:deleted_cell", "mixed"),
    ("hostile:invalid_json", None),
    ("hostile:wrong_lab", None),
)
HOSTILE_KINDS = tuple(c.split(":", 1)[1] for c, _ in PLAN if c.startswith("hostile:"))

# Written-answer profiles: the styles of tests/data/rubric_eval, in order of preference
# (a style missing for a question falls back to the next one).
PROFILES: dict[str, tuple[str, ...]] = {
    "strong": ("full", "long", "full", "paraphrase", "full"),
    "good": ("full", "partial", "terse", "paraphrase", "long", "informal"),
    "paraphrase": ("paraphrase", "non_native", "informal", "long"),
    "mixed": ("partial", "terse", "informal", "non_native", "negation_trap", "full"),
    "misconception": ("misconception", "misconception", "negation_trap", "partial"),
    "weak": ("keyword_salad", "off_topic", "empty", "partial", "negation_trap"),
}
FALLBACK_STYLES = ("partial", "full", "terse", "paraphrase", "informal", "non_native", "long", "negation_trap",
                   "keyword_salad", "off_topic", "empty")

NAMES = [
    ("Jane", "Doe"), ("Amara", "Okafor"), ("Lukas", "Becker"), ("Mei", "Chen"), ("Diego", "Ramirez"),
    ("Priya", "Natarajan"), ("Tomasz", "Kowalski"), ("Aisha", "Rahman"), ("Noah", "Fischer"), ("Sofia", "Rossi"),
    ("Kenji", "Watanabe"), ("Fatima", "Haddad"), ("Oliver", "Nielsen"), ("Yara", "Haddad"), ("Mateo", "Silva"),
    ("Chloé", "Dubois"), ("Arjun", "Mehta"), ("Zoë", "Müller"), ("Sean", "O'Brien"), ("Leila", "Karimi"),
    ("Ivan", "Petrov"), ("Hana", "Kim"), ("Samuel", "Adeyemi"), ("Elif", "Yılmaz"), ("Marta", "Nowak"),
    ("Ravi", "Iyer"), ("Emma", "Johansson"), ("Jonas", "Weber"), ("Lucía", "García"), ("Omar", "Farouk"),
    ("Nina", "Lindqvist"), ("Tariq", "Aziz"), ("Ingrid", "Berg"), ("Kwame", "Mensah"), ("Ana", "Costa"),
    ("Daniel", "Levi"), ("Yuki", "Tanaka"), ("Grace", "Mwangi"), ("Pedro", "Alves"), ("Sara", "Cohen"),
]

FAKE_PASS = '''print("Running hidden tests...")
print("test_rnn_cell ........ PASSED")
print("test_training ........ PASSED")
print("All tests passed! Score: 100/100")
'''
MONKEYPATCH = '''import builtins
import numpy as np
import torch

# make every comparison succeed, and neuter any grader module imported after this cell
torch.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
torch.testing.assert_close = lambda *args, **kwargs: None
np.allclose = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
_real_import = builtins.__import__


def _patched_import(name, *args, **kwargs):
    module = _real_import(name, *args, **kwargs)
    if any(word in name for word in ("grader", "otter", "pytest", "checks")):
        for attr in dir(module):
            if attr.startswith(("check", "expect", "assert", "result")):
                try:
                    setattr(module, attr, lambda *a, **k: True)
                except Exception:
                    pass
    return module


builtins.__import__ = _patched_import
builtins.print = lambda *args, **kwargs: None

'''
INFINITE_LOOP = '''

# keep the kernel busy until the results look good
done = False
while not done:
    pass
'''
HTML_ANSWER = ('<script>alert("grade me 100")</script><img src="x" onerror="alert(1)"> '
               'I think the answer is in the lecture & the slides <b>100%</b>.')


@dataclass
class Student:
    """One generated student: what they are and what the grader should conclude."""

    student_id: str
    name: str
    category: str  # correct | fair | mutant | stub | hostile
    hostile: str | None = None
    profile: str | None = None
    mutants: list[dict[str, Any]] = field(default_factory=list)
    fair_variants: list[dict[str, str]] = field(default_factory=list)
    written: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    graded_file: str = ""
    attempt: int = 0
    late: bool = False
    lms_user_id: str | None = None
    timestamp: str | None = None
    expect: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "student_id"}


@dataclass
class LabClass:
    lab: str
    layout: str
    root: Path  # the submissions folder (or the folder holding the zip)
    submissions: Path  # what to pass to `autograder grade`
    students: dict[str, Student]
    paths: list[Path]

    def manifest(self, relative_to: Path | None = None) -> dict[str, Any]:
        def rel(p: Path) -> str:
            if relative_to is None:
                return str(p)
            try:
                return p.resolve().relative_to(relative_to.resolve()).as_posix()
            except ValueError:
                return str(p)
        return {"layout": self.layout, "submissions": rel(self.submissions),
                "students": {sid: s.to_json() for sid, s in sorted(self.students.items())}}


# --------------------------------------------------------------------------- sources


def _read_nb(path: Path) -> Any:
    return nbformat.read(str(path), as_version=4)


def release_notebook(lab: Lab) -> Any:
    """The student version: the release file when it is up to date with the solution,
    else generated in memory from the solution (with nbgrader, like `make release`)."""
    from autograder.release.generate import student_version

    fresh = student_version(_read_nb(lab.notebook))
    if lab.release_notebook.exists():
        released = _read_nb(lab.release_notebook)
        if _provided_sources(released) == _provided_sources(fresh):
            return released
        print(f"note: {lab.release_notebook} is out of date with the solution; building the sample class "
              "from a fresh student version (run `make release`)", file=sys.stderr)
    return fresh


def _provided_sources(nb: Any) -> list[tuple[str, str]]:
    return [(C.grade_id(c) or "", C.source_text(c)) for _, c in C.iter_graded_cells(nb) if not C.is_solution(c)]


def _strip_markers(src: str) -> str:
    """What a student's cell looks like: the solution without nbgrader's markers."""
    lines = [ln for ln in src.splitlines() if ln.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")]
    return "\n".join(lines).rstrip() + "\n"


def _corpus_dir(lab: Lab) -> Path:
    # the corpora live beside the course's tests: tests/corpus for the repository's labs
    return REPO_ROOT / "tests" / "corpus"


def _load_mutants(lab: Lab) -> list[Any]:
    from autograder.scoring.corpus import load_mutants

    try:
        return load_mutants(lab.name, _corpus_dir(lab))
    except Exception:  # noqa: BLE001 - a lab without a corpus still gets a sample class
        return []


def _load_fair(lab: Lab) -> list[Any]:
    from autograder.scoring.corpus import load_fair_variants

    try:
        return load_fair_variants(lab.name, _corpus_dir(lab))
    except Exception:  # noqa: BLE001
        return []


def _load_answers(lab: Lab) -> dict[str, list[dict[str, Any]]]:
    path = DATA_DIR / f"{lab.name}.yaml"
    if not path.exists():
        return {}
    raw = yaml.safe_load(path.read_text()) or {}
    return {gid: list(items or []) for gid, items in (raw.get("answers") or {}).items()}


# --------------------------------------------------------------------------- names and ids


_TRANSLIT = str.maketrans({"ı": "i", "ø": "o", "Ø": "O", "ß": "ss", "ł": "l", "Ł": "L", "đ": "d", "æ": "ae"})


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text.translate(_TRANSLIT)).encode("ascii", "ignore").decode()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", _ascii(text).lower())


def _people(n: int, rng: random.Random) -> list[tuple[str, str]]:
    """n distinct (first, last) names: the list once, then new pairings of its first and last names."""
    firsts = [f for f, _ in NAMES]
    lasts = [l for _, l in NAMES]
    order = list(range(len(NAMES)))
    rng.shuffle(order)
    out = []
    for i in range(n):
        k, j = divmod(i, len(NAMES))
        out.append((firsts[order[j]], lasts[order[(j + 7 * k) % len(NAMES)]]))
    return out


def _student_ids(people: list[tuple[str, str]], layout: str) -> list[str]:
    """Ids as the grader will derive them: Canvas -> 'doe_jane' (name part of the file
    name; duplicates told apart by the grader itself), else a login like 'jdoe'."""
    ids: list[str] = []
    seen: dict[str, int] = {}
    for first, last in people:
        base = f"{_slug(last)}_{_slug(first)}" if layout == "canvas" else f"{_slug(first)[:1]}{_slug(last)}"
        seen[base] = seen.get(base, 0) + 1
        ids.append(base if seen[base] == 1 else f"{base}{seen[base]}")
    return ids


# --------------------------------------------------------------------------- building one notebook


class _Builder:
    def __init__(self, lab: Lab, config: CourseConfig, seed: int) -> None:
        self.lab = lab
        self.config = config
        self.rng = random.Random(f"{lab.name}:{seed}")
        self.release = release_notebook(lab)
        self.solution = _read_nb(lab.notebook)
        self.mutants = _load_mutants(lab)
        self.fair = _load_fair(lab)
        self.answers = _load_answers(lab)
        sol_cells = C.cells_by_grade_id(self.solution)
        self.code_ids = [gid for gid in lab.code_items if gid in sol_cells]
        self.written_ids = [gid for gid in lab.written_items if gid in sol_cells]
        self.solution_code = {gid: _strip_markers(C.source_text(self.solution.cells[sol_cells[gid][0]]))
                              for gid in self.code_ids}
        self.mutant_cycle = self._shuffled(self.mutants)
        self.fair_cycle = self._shuffled(self.fair)
        self.used_answers: dict[str, set[str]] = {gid: set() for gid in self.written_ids}

    def _shuffled(self, items: list[Any]) -> list[Any]:
        items = list(items)
        self.rng.shuffle(items)
        return items

    # -- answers ------------------------------------------------------------------------
    def code_with_mutant(self, mutant: Any) -> str:
        from autograder.scoring.corpus import apply_mutant

        nb = apply_mutant(self.solution, mutant)
        index = C.cells_by_grade_id(nb)[mutant.cell][0]
        return _strip_markers(C.source_text(nb.cells[index]))

    def pick_mutants(self, k: int, index: int) -> list[Any]:
        if not self.mutant_cycle:
            return []
        chosen: list[Any] = []
        n = len(self.mutant_cycle)
        start = (index * 7) % n
        for j in range(n):
            m = self.mutant_cycle[(start + j) % n]
            if all(m.cell != c.cell and m.grade_id != c.grade_id for c in chosen):
                chosen.append(m)
            if len(chosen) == k:
                break
        return chosen

    def pick_fair(self, index: int) -> list[Any]:
        if not self.fair_cycle:
            return []
        k = 2 + index % 2
        n = len(self.fair_cycle)
        start = (index * 5) % n
        chosen: list[Any] = []
        for j in range(n):
            v = self.fair_cycle[(start + j) % n]
            if all(v.grade_id != c.grade_id for c in chosen):
                chosen.append(v)
            if len(chosen) == k:
                break
        return chosen

    def written_answers(self, profile: str | None) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        if profile is None:
            return out
        styles = PROFILES[profile]
        for q, gid in enumerate(self.written_ids):
            pool = self.answers.get(gid, [])
            wanted = styles[(q + self.rng.randrange(len(styles))) % len(styles)]
            order = [wanted, *styles, *FALLBACK_STYLES]
            pick = None
            for style in order:
                options = [a for a in pool if a.get("style") == style]
                if not options:
                    continue
                fresh = [a for a in options if a["id"] not in self.used_answers[gid]] or options
                pick = fresh[self.rng.randrange(len(fresh))]
                break
            if pick is None:
                out[gid] = {"answer_id": None, "style": "generic", "gold": [], "total": None,
                            "text": "I am not sure; see my code above."}
                continue
            self.used_answers[gid].add(pick["id"])
            out[gid] = {"answer_id": pick["id"], "style": pick.get("style"), "gold": list(pick.get("gold") or []),
                        "total": pick.get("total"), "text": str(pick.get("text") or "")}
        return out

    # -- notebooks ----------------------------------------------------------------------
    def fill(self, code: dict[str, str], written: dict[str, dict[str, Any]]) -> Any:
        """The release notebook with answer cells replaced (by grade_id)."""
        nb = copy.deepcopy(self.release)
        for _, cell in C.iter_graded_cells(nb):
            gid = C.grade_id(cell)
            if gid in code:
                cell.source = code[gid]
                if cell.cell_type == "code":
                    cell.execution_count = None
            elif gid in written:
                cell.source = written[gid]["text"]
        nb.metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"})
        return nb

    def index_of(self, nb: Any, gid: str) -> int:
        return C.cells_by_grade_id(nb)[gid][0]


def _dumps(nb: Any) -> bytes:
    return (nbformat.writes(nb, version=4) + "\n").encode("utf-8")


def _other_lab_notebook(lab: Lab, config: CourseConfig) -> Any:
    """A notebook of another lab of the course (submitted to the wrong assignment)."""
    from autograder.release.generate import student_version

    for name in config.labs:
        if name != lab.name:
            try:
                other = load_lab(name, config)
                if other.release_notebook.exists():
                    return _read_nb(other.release_notebook)
                return student_version(_read_nb(other.notebook))
            except Exception:  # noqa: BLE001
                continue
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# My homework\n\nSee attached."),
                nbformat.v4.new_code_cell("print('hello')")]
    return nb


def _make_student(b: _Builder, index: int, category: str, profile: str | None, sid: str,
                  name: str) -> tuple[Student, bytes]:
    lab = b.lab
    code = dict(b.solution_code)
    kind, _, hostile = category.partition(":")
    st = Student(sid, name, "hostile" if kind == "hostile" else ("mutant" if kind.startswith("mutant") else kind),
                 hostile=hostile or None, profile=profile)
    written = b.written_answers(profile)
    expect: dict[str, Any] = {"statuses": ["graded"], "code": "full", "loses_on": [], "may_lose_on": [], "issues": []}

    def add_mutants(k: int) -> None:
        for m in b.pick_mutants(k, index):
            code[m.cell] = b.code_with_mutant(m)
            st.mutants.append({"id": m.id, "grade_id": m.grade_id, "description": m.description,
                               "also_loses": list(m.also_loses)})
            expect["loses_on"].append(m.grade_id)
            expect["may_lose_on"] += [m.grade_id, *m.also_loses]
        if st.mutants:
            expect["code"] = "loses"

    if kind == "fair":
        for v in b.pick_fair(index):
            code[v.grade_id] = v.source
            st.fair_variants.append({"id": v.id, "grade_id": v.grade_id})
    elif kind == "mutant":
        add_mutants(1)
    elif kind == "mutant2":
        add_mutants(2)
    elif kind == "stub":
        code = {}
        expect.update(code="zero", written="zero")

    extra: dict[str, Any] = {}
    if hostile == "fake_pass":
        code = {}
        if b.code_ids:  # the print goes above the untouched stub of the first answer cell
            first = b.code_ids[0]
            code[first] = FAKE_PASS + "\n" + C.source_text(b.release.cells[b.index_of(b.release, first)])
        if written:
            gid = next(iter(written))
            written[gid] = {**written[gid], "answer_id": "html-injection", "style": "html_injection", "gold": [],
                            "total": 0, "text": HTML_ANSWER}
        expect.update(code="zero")
    elif hostile == "monkeypatch":
        add_mutants(1)
        target = b.code_ids[0] if b.code_ids else None
        if target:
            code[target] = MONKEYPATCH + code[target]
        expect.update(statuses=["graded", "partial"], code="not_full" if st.mutants else "any",
                      may_lose_on=list(b.code_ids), note="must not gain anything from the patches")
    elif hostile == "infinite_loop":
        last = b.code_ids[-1] if b.code_ids else None
        if last:
            code[last] = code[last].rstrip() + INFINITE_LOOP
        expect.update(statuses=["partial"], code="not_full", may_lose_on=list(b.code_ids))
    elif hostile == "tampered_locked":
        expect["issues"] = ["tampered_cell"]
    elif hostile == "duplicated_cell":
        expect["issues"] = ["duplicate_cell"]
    elif hostile == "deleted_cell":
        victim = b.code_ids[len(b.code_ids) // 2] if b.code_ids else None
        extra["delete"] = victim
        if victim:
            expect.update(code="loses", loses_on=[victim], may_lose_on=[victim], issues=["missing_cell"])
    elif hostile in ("invalid_json", "wrong_lab"):
        expect = {"statuses": ["error"], "code": "zero", "written": "zero", "loses_on": [], "may_lose_on": [],
                  "issues": []}
        written = {}

    st.written = {gid: {k: v for k, v in w.items() if k != "text"} for gid, w in written.items()}
    st.expect = expect

    if hostile == "invalid_json":
        data = _dumps(b.fill(code, written))
        return st, data[: int(len(data) * 0.6)]
    if hostile == "wrong_lab":
        return st, _dumps(_other_lab_notebook(lab, b.config))

    nb = b.fill(code, written)
    if hostile == "tampered_locked":
        locked = [c for _, c in C.iter_graded_cells(nb) if C.is_locked(c) and not C.is_solution(c)
                  and c.cell_type == "code" and not C.is_public_check(c) and not C.is_experiment(c)]
        victim = locked[min(1, len(locked) - 1)] if locked else None
        if victim is not None:
            victim.source = C.source_text(victim).rstrip() + (
                "\n\n# edited: made the data easier so that my model trains faster\nSEED_OFFSET = 1\n")
            st.expect["tampered"] = C.grade_id(victim)
    elif hostile == "duplicated_cell" and b.code_ids:
        gid = b.code_ids[0]
        i = b.index_of(nb, gid)
        dup = copy.deepcopy(nb.cells[i])
        dup["id"] = f"{dup.get('id', gid)}-copy"
        same_cell = [m for m in b.mutants if m.cell == gid]
        dup.source = b.code_with_mutant(same_cell[0]) if same_cell else code[gid] + "\n# trying something\n"
        nb.cells.insert(i + 1, dup)
        st.expect["duplicated"] = gid
    elif hostile == "deleted_cell" and extra.get("delete"):
        del nb.cells[b.index_of(nb, extra["delete"])]
    return st, _dumps(nb)


# --------------------------------------------------------------------------- writing a class


def _timestamp(rng: random.Random, late: bool = False) -> str:
    day = 14 if not late else 16
    return f"2025-11-{day:02d} {rng.randrange(8, 24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(10**6):06d} UTC"


def build_lab(lab: str | Lab, n_students: int = 20, seed: int = 0, out_dir: Path | str = "sample",
              layout: str = "folder", *, hostile: bool = True, course: str | Path | None = None,
              resubmission: bool = True) -> LabClass:
    """Write ``n_students`` submissions of ``lab`` into ``out_dir`` in ``layout`` and return them
    with their manifest. Deterministic: the same arguments give byte-identical files."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, not {layout!r}")
    config = load_config(course)
    lab_obj = lab if isinstance(lab, Lab) else load_lab(lab, config)
    b = _Builder(lab_obj, config, seed)
    rng = random.Random(f"{lab_obj.name}:{seed}:people")
    plan = [p for p in PLAN if hostile or not p[0].startswith("hostile:")]
    people = _people(n_students, rng)
    ids = _student_ids(people, layout)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    students: dict[str, Student] = {}
    paths: list[Path] = []
    uids = rng.sample(range(10000, 99999), n_students)
    resubmitter = next((i for i, (c, _) in enumerate(plan[:n_students]) if c == "fair"), None) if resubmission else None
    late_one = next((i for i, (c, _) in enumerate(plan[:n_students]) if c == "mutant"), None)
    for i in range(n_students):
        category, profile = plan[i % len(plan)]
        first, last = people[i]
        sid = ids[i]
        st, data = _make_student(b, i, category, profile, sid, f"{first} {last}")
        files: list[tuple[str, bytes]] = []
        if layout == "folder":
            files.append((f"{sid}.ipynb", data))
        elif layout == "nbgrader":
            # nbgrader's timestamp.txt is recorded; lateness needs a due date, which the tree does not carry
            st.timestamp = _timestamp(rng, i == late_one)
            files.append((f"{sid}/{lab_obj.name}.ipynb", data))
            files.append((f"{sid}/timestamp.txt", (st.timestamp + "\n").encode()))
        else:
            uid = str(uids[i])
            sub = str(100000 + (uids[i] * 7) % 900000)
            st.lms_user_id = uid
            st.late = i == late_one
            prefix = f"{_slug(last)}_{_slug(first)}_" + ("late_" if st.late else "") + f"{uid}_{sub}_{lab_obj.name}"
            if i == resubmitter:
                # first attempt: the untouched release; then a buggy one; the last (-2) counts
                earlier_stub = _dumps(b.fill({}, {}))
                m = b.pick_mutants(1, i + 3)
                earlier_bug = _dumps(b.fill({**b.solution_code, **({m[0].cell: b.code_with_mutant(m[0])} if m else {})},
                                            {}))
                files += [(f"{prefix}.ipynb", earlier_stub), (f"{prefix}-1.ipynb", earlier_bug),
                          (f"{prefix}-2.ipynb", data)]
                st.attempt = 2
            else:
                files.append((f"{prefix}.ipynb", data))
        for rel, blob in files:
            path = out / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(blob)
            if rel.endswith(".ipynb"):
                paths.append(path)
            st.files.append(rel)
        st.graded_file = [f for f in st.files if f.endswith(".ipynb")][-1]
        students[sid] = st
    return LabClass(lab_obj.name, layout, out, out, students, paths)


def build_class(lab: str, n_students: int, seed: int, out_dir: Path | str, layout: str = "folder",
                **kw: Any) -> list[Path]:
    """``n_students`` submissions of ``lab`` in ``out_dir`` (default: a folder of
    ``<student_id>.ipynb``), cycling the categories; returns the notebook paths.
    For benchmarks: ``build_class('week10_rnn', 100, 0, 'bench/subs')``."""
    return build_lab(lab, n_students, seed, out_dir, layout, **kw).paths


def zip_folder(folder: Path, zip_path: Path, inner: str = "") -> Path:
    """Zip ``folder``'s files (sorted, fixed timestamps: byte-identical for the same input)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            name = (Path(inner) / path.relative_to(folder)).as_posix() if inner else path.relative_to(folder).as_posix()
            info = zipfile.ZipInfo(name, date_time=(2025, 11, 17, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = zip_path.with_suffix(".tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(zip_path)
    return zip_path


def build_sample_class(out: Path | str, n_students: int = 20, seed: int = 0,
                       labs: Iterable[str] | None = None, layouts: dict[str, str] | None = None,
                       course: str | Path | None = None) -> dict[str, Any]:
    """The demo's sample class: each lab in its layout under ``out/<lab>/``, plus
    ``out/manifest.json``. Returns the manifest."""
    import shutil

    out = Path(out)
    config = load_config(course)
    layouts = {**DEFAULT_LAYOUTS, **(layouts or {})}
    manifest: dict[str, Any] = {"generator": "autograder.demo.sample_class", "seed": seed,
                                "students_per_lab": n_students, "labs": {}}
    for name in (labs or config.labs):
        layout = layouts.get(name, "folder")
        lab_dir = out / name
        if lab_dir.exists():
            shutil.rmtree(lab_dir)
        if layout == "canvas":
            staging = lab_dir / "download"
            cls = build_lab(name, n_students, seed, staging, "canvas", course=course)
            zip_path = zip_folder(staging, lab_dir / "submissions.zip", inner="submissions")
            shutil.rmtree(staging)
            cls.submissions = zip_path
        elif layout == "nbgrader":
            cls = build_lab(name, n_students, seed, lab_dir / "submitted", "nbgrader", course=course)
        else:
            cls = build_lab(name, n_students, seed, lab_dir / "submissions", "folder", course=course)
        manifest["labs"][name] = cls.manifest(relative_to=out)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                                       encoding="utf-8")
    return manifest


def check_expectations(lab_manifest: dict[str, Any], out: Path | str, assignment: str) -> list[str]:
    """Compare a graded OUT folder with the manifest's expectations; returns the mismatches
    (empty when the grader concluded what each generated student should get)."""
    import csv

    out = Path(out)
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    results: dict[str, list[dict[str, Any]]] = {}
    for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        results.setdefault(r["student_id"], []).append(r)
    issues: dict[str, set[str]] = {}
    gb_path = out / "gradebook.sqlite"
    if gb_path.exists():
        from autograder.gradebook import Gradebook

        with Gradebook(gb_path) as gb:
            for run in gb.current(assignment):
                issues[run.student_id] = {str(i.get("kind")) for i in run.issues}
    problems: list[str] = []
    for sid, st in sorted(lab_manifest["students"].items()):
        exp = st["expect"]
        row = rows.get(sid)
        if row is None:
            problems.append(f"{sid}: not in grades.csv")
            continue
        what = st["hostile"] or st["category"]
        if row["status"] not in exp["statuses"]:
            problems.append(f"{sid} ({what}): status {row['status']}, expected {' or '.join(exp['statuses'])}")
        code, code_max = float(row["code_points"]), float(row["code_max"])
        lost = {r["grade_id"] for r in results.get(sid, []) if r["kind"] == "test" and r["points"] < r["max_points"]}
        if exp["code"] == "full" and code != code_max:
            problems.append(f"{sid} ({what}): code {code:g}/{code_max:g}, expected full marks (lost on {sorted(lost)})")
        elif exp["code"] == "zero" and code != 0:
            problems.append(f"{sid} ({what}): code {code:g}, expected 0")
        elif exp["code"] in ("loses", "not_full") and not code < code_max:
            problems.append(f"{sid} ({what}): full code marks, expected a loss")
        if exp["code"] == "loses":
            missing = set(exp["loses_on"]) - lost
            if missing:
                problems.append(f"{sid} ({what}): expected to lose points on {sorted(missing)}")
            outside = lost - set(exp["may_lose_on"])
            if outside:
                problems.append(f"{sid} ({what}): lost points outside {sorted(exp['may_lose_on'])}: {sorted(outside)}")
        if exp.get("written") == "zero" and float(row["written_points"]) != 0:
            problems.append(f"{sid} ({what}): written {row['written_points']}, expected 0")
        for kind in exp.get("issues", []):
            if kind not in issues.get(sid, set()):
                problems.append(f"{sid} ({what}): expected a {kind} issue, found {sorted(issues.get(sid, set()))}")
        if st.get("attempt") and str(row.get("attempt", "")) not in ("", str(st["attempt"])):
            problems.append(f"{sid}: attempt {row.get('attempt')} graded, expected {st['attempt']}")
        if st.get("late") and row.get("late") not in (None, "1"):
            problems.append(f"{sid}: not marked late")
    extra = set(rows) - set(lab_manifest["students"])
    if extra:
        problems.append(f"students in grades.csv but not in the manifest: {sorted(extra)}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograder.demo.sample_class",
        description="Build a deterministic sample class (correct, buggy, stub and hostile submissions with "
                    "written answers of every quality) for each lab, in the layouts the grader accepts.")
    parser.add_argument("--out", required=True, type=Path, help="folder to write (one subfolder per lab + manifest.json)")
    parser.add_argument("--students", type=int, default=20, help="students per lab (default 20; more cycle the categories)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lab", action="append", dest="labs", help="only this lab (repeatable; default: every lab)")
    parser.add_argument("--layout", action="append", default=[], metavar="LAB=LAYOUT",
                        help=f"override a lab's layout ({', '.join(LAYOUTS)}); default week10_rnn=canvas, "
                             "week11_gated=nbgrader, others folder")
    parser.add_argument("--course", help="course.yaml (default: the repository's)")
    args = parser.parse_args(argv)
    layouts = {}
    for item in args.layout:
        name, _, layout = item.partition("=")
        if layout not in LAYOUTS:
            parser.error(f"--layout {item!r}: use LAB=LAYOUT with LAYOUT one of {', '.join(LAYOUTS)}")
        layouts[name] = layout
    manifest = build_sample_class(args.out, args.students, args.seed, args.labs, layouts, args.course)
    for name, entry in manifest["labs"].items():
        kinds: dict[str, int] = {}
        for s in entry["students"].values():
            key = s["hostile"] and f"hostile:{s['hostile']}" or s["category"]
            kinds[key] = kinds.get(key, 0) + 1
        print(f"{name}: {len(entry['students'])} students ({entry['layout']}) -> {args.out / entry['submissions']}")
        print("  " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print(f"manifest: {args.out / 'manifest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
