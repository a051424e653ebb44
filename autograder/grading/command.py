"""The ``grade``, ``review`` and ``export`` verbs (registered by autograder/cli.py)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autograder.config import CourseConfig

GRADE_DESCRIPTION = """\
Grade every submission of ASSIGNMENT found in SUBMISSIONS and write the results to OUT.

SUBMISSIONS may be (detected automatically):
  - a folder of <student_id>.ipynb files,
  - an nbgrader submitted/ tree: <student_id>/<assignment>.ipynb (timestamp.txt optional),
  - an LMS bulk-download zip (or its extracted folder) with Canvas-style names such as
    doe_jane_12345_67890_week10_rnn.ipynb; -1, -2 resubmission suffixes: the latest counts.

OUT receives grades.csv (one row per student), results.jsonl (one line per graded item),
feedback/<student_id>.html, report.html, review_queue.csv and gradebook.sqlite.

Safe to re-run: the same command grades only new or changed submissions (and resumes a
batch that was interrupted); a regrade never discards a TA's recorded decisions.
Same as: make grade ASSIGNMENT=... SUBMISSIONS=... OUT=...
"""

GRADE_EPILOG = """\
statuses in grades.csv:
  graded   everything was run and checked
  partial  some tests could not run (time limit, memory limit, crash); the others count
  error    nothing could be graded (unreadable notebook, wrong assignment, ...): see 'message'

examples:
  autograder grade week10_rnn submissions/ --out out/week10
  autograder grade week10_rnn canvas_download.zip --out out/week10 --workers 4
  autograder review week10_rnn --out out/week10            # what is waiting for a TA
  autograder export week10_rnn --out out/week10 --roster canvas_gradebook.csv
"""


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _grade_config(args: argparse.Namespace) -> "CourseConfig":
    """course.yaml, with ``--scheduler`` (a Dask address; "local" forces this machine) over grading.scheduler."""
    from dataclasses import replace

    from autograder.config import load_config

    config = load_config(args.course)
    scheduler = getattr(args, "scheduler", None)
    if scheduler is not None:
        config = replace(config, grading=replace(config.grading, scheduler="" if scheduler == "local" else scheduler))
    return config


def _cmd_grade(args: argparse.Namespace) -> int:
    from autograder.gradebook import GradebookError
    from autograder.grading.batch import BatchGrader, GradebookBusy, GradeOptions
    from autograder.grading.executors import ExecutorUnavailable
    from autograder.scoring.check_runner import CheckSuiteError

    opts = GradeOptions(
        assignment=args.assignment, submissions=Path(args.submissions), out=Path(args.out), workers=args.workers,
        sandbox=args.sandbox, run_experiments=args.run_experiments, gradebook=args.gradebook, force=args.force,
        progress=args.progress, chunk_size=args.chunk_size, max_notebook_mb=args.max_notebook_mb,
        timeout_s=args.timeout, course=args.course,
    )
    if not opts.submissions.exists():
        print(f"error: submissions not found: {opts.submissions}", file=sys.stderr)
        return 2
    try:
        grader = BatchGrader(opts, config=_grade_config(args))
    except (FileNotFoundError, ValueError) as exc:  # a lab without hidden tests, a broken rubric, ...
        print(f"error: cannot grade {opts.assignment}: {exc}", file=sys.stderr)
        return 2
    show = args.progress if args.progress is not None else sys.stderr.isatty()
    bar = None

    def on_start(total: int) -> None:
        nonlocal bar
        if show and total:
            from tqdm import tqdm

            bar = tqdm(total=total, unit="nb", desc=f"grading {opts.assignment}", file=sys.stderr,
                       dynamic_ncols=True, smoothing=0.1)

    def on_progress() -> None:
        if bar is not None:
            bar.update(1)

    try:
        summary = grader.run(on_start=on_start, on_progress=on_progress)
    except KeyboardInterrupt:
        if bar is not None:
            bar.close()
        print("\ninterrupted: every submission stored so far is kept; run the same command to resume.", file=sys.stderr)
        return 130
    except (ExecutorUnavailable, CheckSuiteError, GradebookError, GradebookBusy, FileNotFoundError, ValueError) as exc:
        if bar is not None:
            bar.close()
        print(f"error: {exc}", file=sys.stderr)
        return 2 if not isinstance(exc, CheckSuiteError) else 1
    if bar is not None:
        bar.close()
    print(summary.text())
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from autograder.grading.batch import export_only

    try:
        result = export_only(args.assignment, Path(args.out), args.gradebook, args.course, extra=True,
                             roster=Path(args.roster) if args.roster else None,
                             canvas_assignment_id=args.canvas_assignment_id)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    st = result.statuses
    print(f"{args.assignment}: exported {sum(st.values())} students (graded {st.get('graded', 0)}, partial "
          f"{st.get('partial', 0)}, errors {st.get('error', 0)}; {result.review_queue} written items waiting for review)")
    for path in result.files:
        if path.parent.name != "feedback":
            print(f"  {path}")
    print(f"  {Path(args.out) / 'feedback'}/<student_id>.html")
    return 0


def _cmd_review(args: argparse.Namespace) -> int:
    from autograder.grading.review import review_command

    return review_command(args)


def register(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser(
        "grade", help="TA: grade a class (folder, nbgrader tree or LMS zip) into OUT",
        description=GRADE_DESCRIPTION, epilog=GRADE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("assignment", metavar="ASSIGNMENT", help="the lab to grade, e.g. week10_rnn")
    p.add_argument("submissions", metavar="SUBMISSIONS", help="folder or .zip holding the students' notebooks")
    p.add_argument("--out", default="out", metavar="OUT", help="folder for the results (default: ./out)")
    p.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                   help="notebooks run in parallel (default: one per CPU core, or course.yaml's grading.workers)")
    p.add_argument("--sandbox", choices=("auto", "bwrap", "none"), default="auto",
                   help="how student code is isolated: auto (the sandboxed worker pool when available), "
                        "bwrap (require bubblewrap), none (forked processes with limits only; trusted code only)")
    p.add_argument("--run-experiments", action="store_true",
                   help="also re-run the cells tagged 'experiment' (long training runs; off by default)")
    p.add_argument("--gradebook", default=None, metavar="PATH", help="gradebook database (default: OUT/gradebook.sqlite)")
    p.add_argument("--force", action="store_true",
                   help="regrade every submission, even unchanged ones (TA decisions are kept)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show a progress bar with ETA on stderr (default: only on a terminal)")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="wall-clock limit per notebook (default: course.yaml's grading.timeout_s)")
    p.add_argument("--max-notebook-mb", type=float, default=20.0, metavar="MB",
                   help="larger notebook files are not graded (status error; default: 20)")
    p.add_argument("--chunk-size", type=_positive_int, default=50, metavar="N",
                   help="submissions checked per hidden-test session (default: 50)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="grade on a Dask cluster, e.g. tcp://head:8786 (default: course.yaml's grading.scheduler; "
                        "'local' grades on this machine); this process stays the only gradebook writer "
                        "(docs/cluster.md)")
    p.set_defaults(handler=_cmd_grade)

    e = verbs.add_parser(
        "export", help="re-export OUT's files from the gradebook (no regrading), plus items.csv and a Canvas CSV",
        description="Regenerate grades.csv, results.jsonl, feedback/, report.html and review_queue.csv from the "
                    "gradebook, plus items.csv (every graded item) and canvas_import.csv (Canvas gradebook import: "
                    "Student, ID, SIS User ID, Section, '<Assignment> (<id>)'). Nothing is regraded.")
    e.add_argument("assignment", metavar="ASSIGNMENT")
    e.add_argument("--out", default="out", metavar="OUT", help="folder holding the gradebook and the files (default: ./out)")
    e.add_argument("--gradebook", default=None, metavar="PATH", help="gradebook database (default: OUT/gradebook.sqlite)")
    e.add_argument("--roster", default=None, metavar="CSV",
                   help="a Canvas gradebook export, to fill in Canvas IDs, SIS ids and sections")
    e.add_argument("--canvas-assignment-id", default=None, metavar="ID",
                   help="the Canvas assignment id, so the column header matches the existing assignment")
    e.set_defaults(handler=_cmd_export)

    from autograder.grading.review import REVIEW_DESCRIPTION, REVIEW_EPILOG, add_review_arguments

    r = verbs.add_parser(
        "review", help="TA: the review queue grouped by similar answers; record decisions; recalibrate thresholds",
        description=REVIEW_DESCRIPTION, epilog=REVIEW_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_review_arguments(r)
    r.set_defaults(handler=_cmd_review)
