"""Batch grading on a Dask cluster, for courses that outgrow one machine.

The coordinator (the ``grade`` verb) stays the only writer of the gradebook: it
sends *chunks* of jobs to Dask workers and receives plain-data results. On each
Dask worker process a warm local executor (the same sandboxed ``WorkerPool`` as
on a laptop) is created once and reused for every chunk it receives, so torch is
imported once per node, not once per submission.

If a Dask worker dies mid-chunk, the scheduler reruns that chunk elsewhere
(``retries``); the coordinator takes each job's first result and ignores any
repeat, so nothing is lost and nothing is duplicated.
"""
from __future__ import annotations

import importlib
import json
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterable, Iterator

from autograder.execution.api import ExecutionResult, Job

DEFAULT_FACTORY = "autograder.execution.pool:WorkerPool"

_LOCAL: dict[tuple, Any] = {}
_LOCK = threading.Lock()


def _local_executor(course: str, labs: tuple[str, ...], factory: str, workers: int | None) -> Any:
    """One warm executor per Dask worker process, created on first use."""
    key = (course, labs, factory, workers)
    with _LOCK:
        if key not in _LOCAL:
            from autograder.config import load_config
            from autograder.labs import load_lab

            config = load_config(course)
            module, _, attr = factory.partition(":")
            cls = getattr(importlib.import_module(module), attr)
            _LOCAL[key] = cls([load_lab(n, config) for n in labs], config.grading, workers=workers)
        return _LOCAL[key]


def run_chunk(course: str, labs: tuple[str, ...], factory: str, workers: int | None, jobs: list[dict[str, Any]]) -> list[str]:
    """Runs on a Dask worker: JSON jobs in, JSON results out (no pickled student data)."""
    executor = _local_executor(course, labs, factory, workers)
    return [json.dumps(asdict(r)) for r in executor.run_many([Job.from_json(j) for j in jobs])]


class DaskExecutor:
    """Executor that fans chunks of jobs out to a Dask cluster.

    ``scheduler`` is an address (``tcp://host:8786``) or an existing
    ``distributed.Client``; ``course`` is the course.yaml path as seen by the
    workers (every node needs the repository and its .venv at that path).
    """

    def __init__(
        self,
        scheduler: Any,
        course: str | Path,
        labs: Iterable[str],
        *,
        chunk_size: int = 16,
        factory: str = DEFAULT_FACTORY,
        workers_per_node: int | None = None,
        retries: int = 3,
    ) -> None:
        from distributed import Client

        self._own_client = not isinstance(scheduler, Client)
        self.client = Client(scheduler) if self._own_client else scheduler
        self.course = str(course)
        self.labs = tuple(labs)
        self.chunk_size = max(1, chunk_size)
        self.factory = factory
        self.workers_per_node = workers_per_node
        self.retries = retries

    def run_many(self, jobs: Iterable[Job]) -> Iterator[ExecutionResult]:
        from distributed import as_completed

        jobs = list(jobs)
        chunks = [jobs[i:i + self.chunk_size] for i in range(0, len(jobs), self.chunk_size)]
        futures = [
            self.client.submit(run_chunk, self.course, self.labs, self.factory, self.workers_per_node,
                               [j.to_json() for j in chunk], pure=False, retries=self.retries)
            for chunk in chunks
        ]
        seen: set[str] = set()
        for future in as_completed(futures):
            try:
                raw_results = future.result()
            except Exception:  # noqa: BLE001 - retries exhausted; reported per job below
                continue
            for raw in raw_results:
                result = ExecutionResult(**json.loads(raw))
                if result.job_id in seen:
                    continue  # a rerun chunk repeating a job: first result wins
                seen.add(result.job_id)
                yield result
        for job in jobs:  # a chunk that failed for good still yields a row per job
            if job.job_id not in seen:
                yield ExecutionResult(job.job_id, "sandbox_error", "the cluster could not run this submission")

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    def __enter__(self) -> "DaskExecutor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
