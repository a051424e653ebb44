"""Grade a class: intake -> assemble -> execute (executor) -> check (trusted pytest) -> gradebook -> files.

The orchestrator never runs student code: it hands :class:`Job` objects to an
executor and decides only from the plain data that comes back. Every
submission is stored in its own gradebook transaction as soon as it is
checked, so a batch can be killed at any point and the same command resumes
it: submissions whose content hash and grader version are already in the
gradebook are skipped. Output files are regenerated from the gradebook at the
end of every run.
"""
from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from autograder import __version__ as AUTOGRADER_VERSION
from autograder.authoring import cells as C
from autograder.config import CourseConfig, load_config
from autograder.execution.api import ExecutionResult, Job
from autograder.execution.program import Program, assemble
from autograder.gradebook import Gradebook, RunRecord, SubmissionInfo
from autograder.grading.executors import make_executor
from autograder.grading.translate import build_run, error_run
from autograder.grading.written import WrittenGrader
from autograder.intake import Candidate, IntakeError, collect, lab_grade_ids, parse_submission
from autograder.labs import Lab, load_lab
from autograder.reports.plots import lab_plots
from autograder.scoring.check_runner import run_checks
from autograder.scoring.inprocess import trusted_notebook
from autograder.scoring.points import load_points

DEFAULT_CHUNK = 50
FLUSH_S = 30.0  # store checked results at least this often


@dataclass
class GradeOptions:
    assignment: str
    submissions: Path
    out: Path
    workers: int | None = None
    sandbox: str = "auto"
    run_experiments: bool = False
    gradebook: Path | None = None
    force: bool = False
    progress: bool | None = None  # None: only when stderr is a terminal
    chunk_size: int = DEFAULT_CHUNK
    max_notebook_mb: float = 20.0
    timeout_s: float | None = None
    course: str | Path | None = None

    @property
    def gradebook_path(self) -> Path:
        return Path(self.gradebook) if self.gradebook else Path(self.out) / "gradebook.sqlite"


@dataclass
class BatchSummary:
    assignment: str
    layout: str
    found: int
    graded_now: int  # submissions graded in this run (the rest were already in the gradebook)
    skipped: int
    statuses: dict[str, int]  # over every current student of the assignment
    review_queue: int
    seconds: float
    executor: str
    out: Path
    gradebook: Path
    warnings: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @property
    def seconds_per_submission(self) -> float:
        return self.seconds / self.graded_now if self.graded_now else 0.0

    def text(self) -> str:
        st = self.statuses
        lines = [
            f"{self.assignment}: {self.found} submissions found ({self.layout}); graded now {self.graded_now}, "
            f"unchanged and skipped {self.skipped}",
            f"  graded {st.get('graded', 0)}, partial {st.get('partial', 0)}, errors {st.get('error', 0)}; "
            f"written answers waiting for review: {self.review_queue}",
            f"  {self.seconds:.1f} s in all"
            + (f", {self.seconds_per_submission:.2f} s per submission" if self.graded_now else "")
            + f" ({self.executor})",
            f"  grades:   {self.out / 'grades.csv'}",
            f"  results:  {self.out / 'results.jsonl'}",
            f"  feedback: {self.out / 'feedback'}/<student_id>.html",
            f"  report:   {self.out / 'report.html'}",
            f"  gradebook: {self.gradebook}",
        ]
        for w in self.warnings:
            lines.append(f"  warning: {w}")
        if self.ignored:
            lines.append(f"  ignored {len(self.ignored)} file(s) that are not notebooks (e.g. {self.ignored[0]})")
        return "\n".join(lines)


def _hidden_files(hidden: Path) -> list[tuple[str, str]]:
    out = []
    for path in sorted(hidden.rglob("*")):
        rel = path.relative_to(hidden)
        if path.is_file() and not any(p.startswith(".") or p == "__pycache__" for p in rel.parts):
            out.append((rel.as_posix(), hashlib.sha256(path.read_bytes()).hexdigest()))
    return out


def _trusted_fingerprint(trusted: dict[str, Any]) -> list[Any]:
    """What of the release notebook grading depends on: graded cells' roles, provided code, points.
    (The same for the release and the solution notebook, so generating the release regrades nothing.)"""
    out = []
    for _, cell in C.iter_graded_cells(trusted):
        meta = C.nbgrader_meta(cell)
        provided = C.is_locked(cell) and not C.is_solution(cell)
        out.append([C.grade_id(cell), cell.get("cell_type"), bool(C.is_solution(cell)), provided,
                    C.source_text(cell) if provided else "", sorted(C.tags(cell)), meta.get("points")])
    return out


def grader_version(lab: Lab, trusted: dict[str, Any], written: WrittenGrader, limits: Any) -> str:
    blob = json.dumps({
        "autograder": AUTOGRADER_VERSION,
        "trusted": _trusted_fingerprint(trusted),
        "hidden": _hidden_files(lab.hidden_dir),
        "written": written.fingerprint,
        "run_experiments": bool(limits.run_experiments),
        "timeout_s": float(limits.timeout_s),
        "memory_mb": int(limits.memory_mb),
    }, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _absent(program: Program) -> set[str]:
    """Answer cells that are missing or of the wrong type: graded as missing."""
    return {i.grade_id for i in program.issues if i.kind in ("missing_cell", "wrong_cell_type")}


@dataclass
class _Pending:
    cand: Candidate
    program: Program


class BatchGrader:
    """One ``grade`` command. ``on_progress(n)`` is called after each stored submission."""

    def __init__(self, opts: GradeOptions, config: CourseConfig | None = None) -> None:
        self.opts = opts
        self.config = config or load_config(opts.course)
        self.lab = load_lab(opts.assignment, self.config)
        limits = self.config.grading
        if opts.timeout_s:
            limits = replace(limits, timeout_s=float(opts.timeout_s))
        if opts.run_experiments:
            limits = replace(limits, run_experiments=True)
        self.limits = limits
        self.workers = opts.workers or limits.worker_count()
        self.trusted = trusted_notebook(self.lab)
        self.lab_ids = lab_grade_ids(self.trusted)
        self.specs = load_points(self.lab.hidden_dir / "points.yaml")
        self.code_max = sum(s.points for s in self.specs.values())
        self.written = WrittenGrader(self.lab, self.trusted)
        self.written_max = self.written.max_points()
        self.version = grader_version(self.lab, self.trusted, self.written, self.limits)
        self.warnings = self._check_release()

    def _check_release(self) -> list[str]:
        """The release must match the solution's provided cells, or every student shows as tampering."""
        if not self.lab.release_notebook.exists() or not self.lab.notebook.exists():
            return []
        try:
            import nbformat

            solution = nbformat.read(str(self.lab.notebook), as_version=4)
        except Exception:  # noqa: BLE001 - the release is what counts; this is only a hint
            return []
        stale = sorted({i.grade_id for i in assemble(self.trusted, solution).issues if i.kind == "tampered_cell"})
        if not stale:
            return []
        return [f"the release notebook {self.lab.release_notebook} is out of date with the solution "
                f"(provided cells {', '.join(stale)} differ): every submission will be graded against the release; "
                f"run `make release` before handing out a new version"]

    # -- helpers -----------------------------------------------------------------------
    def _info(self, c: Candidate) -> SubmissionInfo:
        return SubmissionInfo(self.lab.name, c.student_id, c.content_hash, c.source, c.layout, c.attempt, c.timestamp,
                              c.late, c.size, c.display_name, c.lms_user_id)

    def _error(self, message: str, **kw: Any) -> RunRecord:
        return error_run(message, grader_version=self.version, rubric_version=self.written.version,
                         code_max=self.code_max, written_max=self.written_max, **kw)

    def _prepare(self, c: Candidate) -> Program | RunRecord:
        if c.error is not None:
            return self._error(c.error)
        try:
            nb = parse_submission(c.data or b"", self.lab_ids, self.lab.name)
            return assemble(self.trusted, nb, run_experiments=self.limits.run_experiments)
        except IntakeError as exc:
            return self._error(str(exc))
        except Exception as exc:  # noqa: BLE001 - a malformed notebook must not stop the batch
            return self._error(f"the notebook could not be read ({type(exc).__name__}: {exc})")

    def _check_and_store(self, gb: Gradebook, batch_id: int, chunk: list[tuple[_Pending, ExecutionResult]],
                         tick: Callable[[], None]) -> None:
        outcomes = run_checks(self.lab.hidden_dir, {p.cand.student_id: r.probes for p, r in chunk})
        written_rows = self.written.grade_many([(p.program.written, _absent(p.program)) for p, _ in chunk])
        for (pending, result), written in zip(chunk, written_rows):
            program = pending.program
            run = build_run(self.lab, program, result, outcomes[pending.cand.student_id], written,
                            grader_version=self.version, rubric_version=self.written.version,
                            code_max=self.code_max, written_max=self.written_max)
            if run.status != "error":  # plots from the student's own probe data (trusted side, never fails)
                run.plots = lab_plots(self.lab.hidden_dir, result.probes)
            gb.store(self._info(pending.cand), run, batch_id)
            tick()

    # -- the batch ---------------------------------------------------------------------
    def run(self, on_start: Callable[[int], None] | None = None, on_progress: Callable[[], None] | None = None) -> BatchSummary:
        opts = self.opts
        started = time.monotonic()
        out = Path(opts.out)
        out.mkdir(parents=True, exist_ok=True)
        lock = _lock(opts.gradebook_path)
        try:
            intake = collect(opts.submissions, self.lab.name, max_notebook_mb=opts.max_notebook_mb, lazy=True)
        except BaseException:
            lock.close()
            raise
        gb = Gradebook(opts.gradebook_path)
        warnings: list[str] = list(self.warnings)
        for w in self.warnings:
            print(f"warning: {w}", file=sys.stderr)
        executor = None
        graded_now = 0
        tick = on_progress or (lambda: None)
        try:
            todo = []
            for c in intake.candidates:  # one notebook in memory at a time
                if opts.force or not gb.is_done(self.lab.name, c.student_id, c.content_hash, self.version):
                    todo.append(c)
                c.release()
            skipped = len(intake.candidates) - len(todo)
            if on_start:
                on_start(len(todo))
            executor_name = "nothing to run"
            batch_id = gb.begin_batch(self.lab.name, self.version, source=str(opts.submissions),
                                      executor="", workers=self.workers)
            pending: dict[str, _Pending] = {}
            for cand in todo:
                prepared = self._prepare(cand.load())
                cand.release()  # the program holds what runs; the bytes are no longer needed
                if isinstance(prepared, RunRecord):
                    gb.store(self._info(cand), prepared, batch_id)
                    graded_now += 1
                    tick()
                else:
                    pending[cand.student_id] = _Pending(cand, prepared)
            if pending:
                executor, executor_name, exec_warnings = make_executor(opts.sandbox, self.lab, self.limits, self.workers)
                warnings += exec_warnings
                for w in exec_warnings:
                    print(f"warning: {w}", file=sys.stderr)
                jobs = [Job.from_program(sid, self.lab.name, p.program) for sid, p in pending.items()]
                chunk: list[tuple[_Pending, ExecutionResult]] = []
                seen: set[str] = set()

                def stored() -> None:
                    nonlocal graded_now
                    graded_now += 1

                last_flush = time.monotonic()
                for result in executor.run_many(jobs):
                    if result.job_id not in pending or result.job_id in seen:
                        continue
                    seen.add(result.job_id)
                    chunk.append((pending[result.job_id], result))
                    tick()  # the bar follows execution, where the time goes
                    # checks run per chunk (one pytest session each), or every FLUSH_S on a slow class,
                    # so an interrupted batch loses little
                    if len(chunk) >= max(1, opts.chunk_size) or time.monotonic() - last_flush > FLUSH_S:
                        self._check_and_store(gb, batch_id, chunk, stored)
                        chunk, last_flush = [], time.monotonic()
                if chunk:
                    self._check_and_store(gb, batch_id, chunk, stored)
                for sid, p in pending.items():  # an executor that lost a job: retried next time
                    if sid not in seen:
                        gb.store(self._info(p.cand), self._error("the executor returned no result for this notebook; "
                                                                 "run the same command again", retry=True), batch_id)
                        stored()
                        tick()
            gb.db.execute("UPDATE batches SET executor = ? WHERE batch_id = ?", (executor_name, batch_id))
            seconds = time.monotonic() - started
            gb.finish_batch(batch_id, found=len(intake.candidates), graded=graded_now, skipped=skipped, seconds=seconds)
            from autograder.reports.exports import export_outputs

            export = export_outputs(gb, self.lab, out)
            return BatchSummary(self.lab.name, intake.description, len(intake.candidates), graded_now, skipped,
                                export.statuses, export.review_queue, time.monotonic() - started, executor_name,
                                out, opts.gradebook_path, warnings, intake.ignored)
        finally:
            if executor is not None:
                executor.close()
            intake.close()
            gb.close()
            lock.close()


class GradebookBusy(RuntimeError):
    pass


def _lock(gradebook: Path) -> Any:
    """One grade run per gradebook at a time (released by the OS if the run is killed)."""
    import fcntl

    gradebook.parent.mkdir(parents=True, exist_ok=True)
    fh = open(gradebook.with_name(gradebook.name + ".lock"), "a+")
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise GradebookBusy(f"another grade run is using {gradebook}; wait for it to finish (or stop it) and run again") from None
    return fh


def grade(opts: GradeOptions, **kw: Any) -> BatchSummary:
    return BatchGrader(opts).run(**kw)


def export_only(assignment: str, out: Path, gradebook: Path | None = None, course: str | Path | None = None,
                **extra: Any):
    """Regenerate OUT's files from the gradebook without grading anything."""
    from autograder.reports.exports import export_outputs

    lab = load_lab(assignment, load_config(course))
    path = Path(gradebook) if gradebook else Path(out) / "gradebook.sqlite"
    if not path.exists():
        raise FileNotFoundError(f"no gradebook at {path}: grade first (autograder grade ...)")
    with Gradebook(path) as gb:
        return export_outputs(gb, lab, Path(out), **extra)
