"""Detect the submissions layout and produce one candidate per student.

Layouts (detected automatically, see docs/grading.md):

* ``folder``: ``<student_id>.ipynb`` files;
* ``nbgrader``: ``<student_id>/<assignment>.ipynb`` (or nbgrader's own
  ``<student_id>/<assignment>/<assignment>.ipynb``) with an optional
  ``timestamp.txt`` beside the notebook;
* ``canvas``: an LMS bulk download (zip or its extracted folder) whose file
  names embed the student: ``doe_jane_12345_67890_week10_rnn.ipynb``,
  ``doe_jane_late_12345_67890_week10_rnn-2.ipynb``; the ``-N`` resubmission
  suffix orders attempts and the latest attempt counts.

A problem with one student's files (a symlink, an unsafe zip name, a file over
the size cap, two notebooks for one student) becomes that student's error
candidate; it never stops the batch.
"""
from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from autograder.intake.sources import Entry, Source, TooLarge, Unreadable, open_source

DEFAULT_MAX_NOTEBOOK_MB = 20.0
MAX_TIMESTAMP_BYTES = 4096

CANVAS_NAME = re.compile(
    r"^(?P<name>.+?)_(?:(?P<late>late)_)?(?P<uid>\d+)_(?:(?P<sub>\d+)_)?(?P<file>.+?)(?:-(?P<attempt>\d+))?\.ipynb$",
    re.IGNORECASE,
)
LAYOUT_NAMES = {
    "folder": "folder of <student_id>.ipynb",
    "nbgrader": "nbgrader tree <student_id>/<assignment>.ipynb",
    "canvas": "LMS (Canvas) bulk download",
}
_SAFE_ID = re.compile(r"[^A-Za-z0-9._@+-]")


def safe_student_id(raw: str) -> str:
    """A student id usable as a file name (feedback/<id>.html) and in CSVs."""
    sid = _SAFE_ID.sub("_", raw.strip()).lstrip(".")[:100]
    return sid or "unknown"


@dataclass
class Candidate:
    """One student's submission as found, before it is parsed or run."""

    student_id: str
    source: str  # where it came from, relative to the submissions root (for the TA)
    layout: str
    data: bytes | None = None
    error: str | None = None  # set when the files themselves could not be taken
    attempt: int = 0
    timestamp: str | None = None
    late: bool = False
    display_name: str | None = None
    lms_user_id: str | None = None
    lms_submission_id: str | None = None
    superseded: list[str] = field(default_factory=list)  # older attempts, ignored
    size: int = 0
    _entry: Entry | None = field(default=None, repr=False)
    _cap: int = 0
    _hash: str | None = field(default=None, repr=False)

    def load(self) -> "Candidate":
        """Read the notebook's bytes (again, after ``release()``); a read problem becomes
        ``error``. The content hash is always that of the bytes last read."""
        if self.data is None and self._entry is not None and self.error is None:
            try:
                self.data = self._entry.read(self._cap)
                self._hash = hashlib.sha256(self.data).hexdigest()
                self.size = len(self.data)
            except TooLarge as exc:
                size = f"{_mb(exc.size)}" if exc.size is not None else f"more than {_mb(self._cap)}"
                self.error = f"the notebook is too large ({size}; the limit is {_mb(self._cap)}): clear large outputs and resubmit"
            except Unreadable as exc:
                self.error = f"{self._entry.path} could not be read: {exc}"
        if self.error is not None:
            self.data = None
            self._hash = hashlib.sha256(f"intake-error\0{self.source}\0{self.error}".encode()).hexdigest()
        elif self._hash is None and self.data is not None:
            self._hash = hashlib.sha256(self.data).hexdigest()
            self.size = len(self.data)
        return self

    @property
    def content_hash(self) -> str:
        """SHA-256 of the notebook's bytes (of the error, for a file that could not be taken)."""
        if self._hash is None:
            self.load()
        return self._hash  # type: ignore[return-value]

    def release(self) -> None:
        """Forget the bytes (hash and size stay; ``load()`` reads them again): a class's
        notebooks need not all sit in memory."""
        self.data = None


@dataclass
class IntakeResult:
    layout: str
    candidates: list[Candidate]
    ignored: list[str] = field(default_factory=list)  # files that are not submissions (for the summary)
    description: str = ""  # the layout in words, for the TA
    _source: Source | None = field(default=None, repr=False)

    def close(self) -> None:
        """Close the zip of a lazy intake (``collect(..., lazy=True)``)."""
        if self._source is not None:
            self._source.close()
            self._source = None

    def __enter__(self) -> "IntakeResult":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _mb(n: int) -> str:
    return f"{n / 1024**2:.1f} MB"


def _take(entry: Entry, cand: Candidate, cap: int) -> Candidate:
    """Attach ``entry`` to ``cand`` (read by ``load()``) or record why it cannot be taken."""
    if entry.kind == "symlink":
        cand.error = f"{entry.path} is a symbolic link (to {entry.target}); links are never followed, submit the notebook file itself"
    elif entry.kind == "unsafe":
        cand.error = f"the zip member name {entry.target!r} points outside the archive; it was not read"
    elif entry.kind == "encrypted":
        cand.error = f"{entry.path} is encrypted in the zip and cannot be read"
    elif entry.kind != "file":
        cand.error = f"{entry.path} is not a regular file"
    else:
        cand._entry, cand._cap = entry, cap
    return cand


def _is_notebook(entry: Entry) -> bool:
    return entry.name.lower().endswith(".ipynb")


def detect_layout(entries: list[Entry], lab: str) -> str:
    names = [e for e in entries if _is_notebook(e)]
    if not names:
        return "folder"
    canvas = sum(1 for e in names if CANVAS_NAME.match(e.name))
    if canvas * 2 >= len(names):
        return "canvas"
    if any(len(e.parts) >= 2 and (e.name == f"{lab}.ipynb" or e.parts[-2] == lab) for e in names):
        return "nbgrader"
    return "folder"


def collect(path: Path | str, lab: str, *, max_notebook_mb: float = DEFAULT_MAX_NOTEBOOK_MB,
            lazy: bool = False) -> IntakeResult:
    """All candidates under ``path`` (a folder or a zip) for assignment ``lab``,
    sorted by student id. With ``lazy=True`` a notebook is read only when its
    candidate's ``load()`` (or ``content_hash``) is called, and the result must be
    closed (``with collect(...) as intake:``)."""
    path = Path(path)
    cap = int(max_notebook_mb * 1024 * 1024)
    source = open_source(path)
    try:
        entries = list(source.entries())
        layout = detect_layout(entries, lab)
        if layout == "canvas":
            result = _canvas(entries, cap)
        elif layout == "nbgrader":
            result = _nbgrader(entries, lab, cap)
        else:
            result = _folder(entries, cap)
        if not lazy:
            for cand in result.candidates:
                cand.load()
    except BaseException:
        source.close()
        raise
    if lazy:
        result._source = source
    else:
        source.close()
    result.description = LAYOUT_NAMES[layout] + (" in a zip" if source.kind == "zip" else "")
    result.candidates.sort(key=lambda c: c.student_id)
    return result


def _duplicates(sid: str, group: list[Entry], layout: str) -> Candidate:
    where = ", ".join(sorted(e.path for e in group))
    return Candidate(sid, where, layout, error=f"several notebooks were found for this student ({where}); keep only one")


def _folder(entries: list[Entry], cap: int) -> IntakeResult:
    groups: dict[str, list[Entry]] = defaultdict(list)
    ignored = []
    for e in entries:
        if _is_notebook(e):
            groups[safe_student_id(e.name[: -len(".ipynb")])].append(e)
        elif e.kind in ("symlink", "unsafe") and "." not in e.name:
            groups[safe_student_id(e.name)].append(e)  # a linked folder: still somebody's row
        else:
            ignored.append(e.path)
    out = []
    for sid, group in groups.items():
        if len(group) > 1:
            out.append(_duplicates(sid, group, "folder"))
        else:
            out.append(_take(group[0], Candidate(sid, group[0].path, "folder"), cap))
    return IntakeResult("folder", out, ignored)


def _nbgrader(entries: list[Entry], lab: str, cap: int) -> IntakeResult:
    """``[prefix/]<sid>/<lab>.ipynb`` or ``[prefix/]<sid>/<lab>/<lab>.ipynb``."""
    by_student: dict[str, list[Entry]] = defaultdict(list)
    stamps: dict[str, Entry] = {}
    ignored = []
    for e in entries:
        dirs = e.parts[:-1]
        while dirs and dirs[-1] == lab:
            dirs = dirs[:-1]
        if e.kind == "symlink" and not _is_notebook(e) and e.name != "timestamp.txt":
            # a linked student folder (or a linked <lab>/ folder inside one)
            if e.name != lab:
                by_student[safe_student_id(e.name)].append(e)
            elif dirs:
                by_student[safe_student_id(dirs[-1])].append(e)
            continue
        if not dirs:
            if _is_notebook(e):  # a loose <sid>.ipynb beside the tree
                by_student[safe_student_id(e.name[: -len(".ipynb")])].append(e)
            else:
                ignored.append(e.path)
            continue
        sid = safe_student_id(dirs[-1])
        if _is_notebook(e):
            by_student[sid].append(e)
        elif e.name == "timestamp.txt":
            stamps[e.path.rsplit("/", 1)[0] if "/" in e.path else ""] = e
            stamps.setdefault(f"student:{sid}", e)
        else:
            ignored.append(e.path)
    out = []
    for sid, group in by_student.items():
        links = [e for e in group if e.kind != "file"]
        named = [e for e in group if e.name == f"{lab}.ipynb"]
        if links:
            chosen = links[0]
        elif len(named) == 1:
            chosen = named[0]
        elif len(group) == 1:
            chosen = group[0]
        else:
            out.append(_duplicates(sid, named or group, "nbgrader"))
            continue
        cand = _take(chosen, Candidate(sid, chosen.path, "nbgrader"), cap)
        folder = chosen.path.rsplit("/", 1)[0] if "/" in chosen.path else ""
        stamp = stamps.get(folder) or stamps.get(f"student:{sid}")
        if stamp is not None and stamp.kind == "file":
            try:
                text = stamp.read(MAX_TIMESTAMP_BYTES).decode("utf-8", "replace").strip().splitlines()
                cand.timestamp = text[0][:64] if text else None
            except (TooLarge, Unreadable):
                cand.timestamp = None
        out.append(cand)
    return IntakeResult("nbgrader", out, ignored)


def _canvas(entries: list[Entry], cap: int) -> IntakeResult:
    groups: dict[str, list[tuple[re.Match, Entry]]] = defaultdict(list)
    unmatched: list[Entry] = []
    ignored = []
    for e in entries:
        if not _is_notebook(e):
            ignored.append(e.path)
            continue
        m = CANVAS_NAME.match(e.name)
        if m is None:
            unmatched.append(e)
        else:
            groups[m["uid"]].append((m, e))
    # student id = the name part of the file name; disambiguated by LMS id if two students share it
    slugs: dict[str, set[str]] = defaultdict(set)
    for uid, group in groups.items():
        slugs[safe_student_id(group[0][0]["name"].lower())].add(uid)
    out = []
    for uid, group in groups.items():
        group.sort(key=lambda me: (int(me[0]["attempt"] or 0), int(me[0]["sub"] or 0), me[1].path))
        m, latest = group[-1]
        slug = safe_student_id(m["name"].lower())
        sid = slug if len(slugs[slug]) == 1 else f"{slug}_{uid}"
        cand = Candidate(sid, latest.path, "canvas", attempt=int(m["attempt"] or 0), late=bool(m["late"]),
                         display_name=m["name"], lms_user_id=uid, lms_submission_id=m["sub"],
                         superseded=[e.path for _, e in group[:-1]])
        out.append(_take(latest, cand, cap))
    taken = {c.student_id for c in out}
    for e in unmatched:
        sid = safe_student_id(e.name[: -len(".ipynb")])
        while sid in taken:
            sid += "_"
        taken.add(sid)
        out.append(Candidate(sid, e.path, "canvas", error=(
            f"the file name {e.name!r} does not follow the LMS pattern "
            "(name_userid_submissionid_file.ipynb), so it is not known whose submission it is")))
    return IntakeResult("canvas", out, ignored)
