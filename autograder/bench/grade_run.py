"""One ``grade`` run with a per-phase breakdown, for the benchmark (a subprocess of it).

    python -m autograder.bench.grade_run LAB SUBMISSIONS --out OUT --report JSON [grade options]

Runs exactly what ``autograder grade`` runs (``BatchGrader``), wrapping a few
functions to time the phases: start-up, executor start, hidden-test checks,
written-answer scoring (model load apart), report export. CPU per phase is the
main thread's CPU time (``time.thread_time``); the executor's hub thread is the
rest of this process's CPU; the sandboxed workers and everything they forked
are ``RUSAGE_CHILDREN`` once the executor has closed (it waits for them).
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any, Callable

START_WALL = time.perf_counter()
START_THREAD = time.thread_time()


class Phases:
    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.count: dict[str, int] = {}

    def add(self, name: str, wall: float, cpu: float, n: int = 0) -> None:
        self.wall[name] = self.wall.get(name, 0.0) + wall
        self.cpu[name] = self.cpu.get(name, 0.0) + cpu
        self.count[name] = self.count.get(name, 0) + n

    def wrap(self, name: str, fn: Callable[..., Any], counter: Callable[..., int] | None = None) -> Callable[..., Any]:
        def timed(*args: Any, **kw: Any) -> Any:
            w, c = time.perf_counter(), time.thread_time()
            try:
                return fn(*args, **kw)
            finally:
                self.add(name, time.perf_counter() - w, time.thread_time() - c, counter(*args, **kw) if counter else 0)
        return timed


def _rusage_cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m autograder.bench.grade_run")
    ap.add_argument("assignment")
    ap.add_argument("submissions")
    ap.add_argument("--out", required=True)
    ap.add_argument("--report", required=True, help="JSON file for the breakdown")
    ap.add_argument("--course", default=None)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--sandbox", default="auto")
    ap.add_argument("--run-experiments", action="store_true")
    ap.add_argument("--scheduler", default=None)
    args = ap.parse_args(argv)

    phases = Phases()
    import autograder.grading.batch as batch
    import autograder.reports.exports as exports
    from autograder.grading.written import WrittenGrader

    imported = (time.perf_counter() - START_WALL, time.thread_time() - START_THREAD)
    phases.add("imports", *imported)

    batch.run_checks = phases.wrap("checks", batch.run_checks, lambda hidden, probes, *a, **k: len(probes))
    batch.make_executor = phases.wrap("executor_start", batch.make_executor)
    exports.export_outputs = phases.wrap("export", exports.export_outputs)
    original_grade_many = WrittenGrader.grade_many

    def grade_many(self: WrittenGrader, subs: list[Any]) -> Any:
        if self.rubric is not None and self._scorer is None:
            w, c = time.perf_counter(), time.thread_time()
            _ = self.scorer  # the embedding model, loaded once per run
            phases.add("written_model_load", time.perf_counter() - w, time.thread_time() - c)
        w, c = time.perf_counter(), time.thread_time()
        try:
            return original_grade_many(self, subs)
        finally:
            phases.add("written", time.perf_counter() - w, time.thread_time() - c, len(subs) * len(self.questions))

    WrittenGrader.grade_many = grade_many  # type: ignore[method-assign]

    opts_kw: dict[str, Any] = dict(assignment=args.assignment, submissions=Path(args.submissions), out=Path(args.out),
                                   workers=args.workers, sandbox=args.sandbox, run_experiments=args.run_experiments,
                                   course=args.course, force=True, progress=False)
    config = batch.load_config(args.course)
    if args.scheduler:  # as the grade verb does with --scheduler
        from dataclasses import replace

        config = replace(config, grading=replace(config.grading, scheduler=args.scheduler))
    w, c = time.perf_counter(), time.thread_time()
    grader = batch.BatchGrader(batch.GradeOptions(**opts_kw), config=config)
    phases.add("setup", time.perf_counter() - w, time.thread_time() - c)
    summary = grader.run()

    wall = time.perf_counter() - START_WALL
    main_cpu = time.thread_time()
    self_cpu = _rusage_cpu(resource.RUSAGE_SELF)
    children_cpu = _rusage_cpu(resource.RUSAGE_CHILDREN)
    st = summary.statuses
    report = {
        "assignment": args.assignment,
        "submissions": summary.found,
        "graded_now": summary.graded_now,
        "statuses": dict(st),
        "review_queue": summary.review_queue,
        "executor": summary.executor,
        "run_experiments": bool(args.run_experiments),
        "wall_s": wall,
        "self_cpu_s": self_cpu,  # this process, every thread
        "main_thread_cpu_s": main_cpu,
        "hub_cpu_s": max(0.0, self_cpu - main_cpu),  # the executor's threads in this process
        "children_cpu_s": children_cpu,  # sandboxed workers, bubblewrap, the per-submission children
        "self_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "phases_wall_s": phases.wall,
        "phases_cpu_s": phases.cpu,
        "written_answers": phases.count.get("written", 0),
        "checked_submissions": phases.count.get("checks", 0),
        "warnings": summary.warnings,
    }
    Path(args.report).write_text(json.dumps(report, indent=1, sort_keys=True))
    print(summary.text(), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
