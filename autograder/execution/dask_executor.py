"""Batch grading on a Dask cluster, for courses that outgrow one machine.

The coordinator (the ``grade`` verb) stays the only writer of the gradebook: it
sends *chunks* of jobs to Dask workers and receives plain-data results; the
workers never see the gradebook, the hidden checks' verdicts or the output
folder. On each Dask worker process a warm local executor (the same sandboxed
``WorkerPool`` as on a laptop) is created on the first chunk and reused for
every later one, so torch is imported once per worker process, not once per
submission.

Transport is JSON both ways (jobs out, results back): nothing a student's code
produced is ever unpickled on the coordinator. The lab definitions and grading
limits travel with each chunk as JSON too, so the workers use exactly the
coordinator's limits (a ``--timeout`` override included); they need the same
paths (the repository and the lab folders) as the coordinator: see docs/cluster.md.

If a Dask worker dies mid-chunk, the scheduler reruns that chunk on another
worker (a lost worker is not an exception in the task; ``retries`` covers tasks
that raise). Results are collected per chunk, and a chunk's results reach the
coordinator only when the whole chunk finished, so a killed chunk contributes
nothing and its rerun contributes everything; the coordinator additionally
keeps each job's first result and drops any repeat. Nothing is lost and
nothing is duplicated.
"""
from __future__ import annotations

import atexit
import importlib
import json
import threading
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, Iterable, Iterator

from autograder.config import GradingLimits
from autograder.execution.api import ExecutionResult, Job
from autograder.labs import Lab

DEFAULT_FACTORY = "autograder.execution.pool:WorkerPool"

_LOCAL: dict[str, Any] = {}
_LOCK = threading.Lock()


def lab_to_json(lab: Lab) -> dict[str, Any]:
    """A Lab as plain JSON (paths as strings), to rebuild it on a Dask worker."""
    raw = asdict(lab)
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in raw.items()}


def lab_from_json(raw: dict[str, Any]) -> Lab:
    kw: dict[str, Any] = {}
    for f in fields(Lab):
        value = raw[f.name]
        if f.name in ("dir", "notebook", "assignments_dir", "rubrics_dir"):
            value = Path(value)
        elif f.name == "parts":
            value = {k: tuple(v) for k, v in value.items()}
        kw[f.name] = value
    return Lab(**kw)


def _close_local() -> None:
    with _LOCK:
        for executor in _LOCAL.values():
            try:
                executor.close()
            except Exception:  # noqa: BLE001 - shutting down anyway
                pass
        _LOCAL.clear()


atexit.register(_close_local)


def _local_executor(spec_json: str) -> Any:
    """One warm executor per Dask worker process and grading spec, created on first use."""
    with _LOCK:
        if spec_json not in _LOCAL:
            spec = json.loads(spec_json)
            module, _, attr = spec["factory"].partition(":")
            cls = getattr(importlib.import_module(module), attr)
            labs = [lab_from_json(raw) for raw in spec["labs"]]
            limits = GradingLimits(**spec["limits"])
            kwargs: dict[str, Any] = {"workers": spec["workers"]}
            if spec.get("sandbox"):
                kwargs["sandbox"] = spec["sandbox"]
            _LOCAL[spec_json] = cls(labs, limits, **kwargs)
        return _LOCAL[spec_json]


def run_chunk(spec_json: str, jobs: list[dict[str, Any]]) -> list[str]:
    """Runs on a Dask worker: JSON jobs in, JSON results out (no pickled student data)."""
    executor = _local_executor(spec_json)
    return [json.dumps(asdict(r)) for r in executor.run_many([Job.from_json(j) for j in jobs])]


def _result_from_json(raw: str) -> ExecutionResult:
    data = json.loads(raw)
    known = {f.name for f in fields(ExecutionResult)}
    return ExecutionResult(**{k: v for k, v in data.items() if k in known})


class DaskExecutor:
    """Executor that fans chunks of jobs out to a Dask cluster.

    ``scheduler`` is an address (``tcp://host:8786``) or an existing
    ``distributed.Client``. ``labs`` are Lab objects, or lab names looked up in
    ``course`` (a course.yaml path). ``workers_per_node`` is the size of the
    warm pool inside each Dask worker process (default 1: run one Dask worker
    process per core, ``dask worker --nworkers N --nthreads 1``).
    """

    def __init__(
        self,
        scheduler: Any,
        course: str | Path | None,
        labs: Iterable[str | Lab],
        *,
        limits: GradingLimits | None = None,
        chunk_size: int = 8,
        factory: str = DEFAULT_FACTORY,
        workers_per_node: int | None = 1,
        sandbox: str | None = None,
        retries: int = 3,
        connect_timeout_s: float = 30.0,
    ) -> None:
        from distributed import Client

        from autograder.config import load_config
        from autograder.labs import load_lab

        names = [lab for lab in labs if isinstance(lab, str)]
        config = load_config(course) if names or limits is None else None
        lab_objs = [lab if isinstance(lab, Lab) else load_lab(lab, config) for lab in labs]
        limits = limits or (config.grading if config else GradingLimits())
        self.spec_json = json.dumps({
            "factory": factory,
            "labs": [lab_to_json(lab) for lab in lab_objs],
            "limits": {k: v for k, v in asdict(limits).items() if k != "scheduler"},
            "workers": workers_per_node,
            "sandbox": sandbox,
        }, sort_keys=True)
        self._own_client = not isinstance(scheduler, Client)
        self.client = Client(scheduler, timeout=connect_timeout_s) if self._own_client else scheduler
        self.address = getattr(self.client.scheduler, "address", str(scheduler))
        self.chunk_size = max(1, chunk_size)
        self.retries = retries

    @property
    def n_workers(self) -> int:
        try:
            return len(self.client.scheduler_info().get("workers", {}))
        except Exception:  # noqa: BLE001 - only for the description
            return 0

    def run_many(self, jobs: Iterable[Job]) -> Iterator[ExecutionResult]:
        from distributed import as_completed

        jobs = list(jobs)
        # at least two chunks per worker where the class allows it, so a slow or lost chunk
        # does not leave the other workers idle at the end; never more than chunk_size per chunk
        size = max(1, min(self.chunk_size, -(-len(jobs) // max(1, 2 * self.n_workers))))
        chunks = [jobs[i:i + size] for i in range(0, len(jobs), size)]
        futures = [
            self.client.submit(run_chunk, self.spec_json, [j.to_json() for j in chunk], pure=False,
                               retries=self.retries, key=f"autograder-chunk-{i}-{chunk[0].job_id}-{id(self)}")
            for i, chunk in enumerate(chunks)
        ]
        failed: dict[str, str] = {}
        seen: set[str] = set()
        try:
            for future, chunk in _completed(as_completed(futures), {f.key: c for f, c in zip(futures, chunks)}):
                try:
                    raw_results = future.result()
                except Exception as exc:  # noqa: BLE001 - retries exhausted; reported per job below
                    for job in chunk:
                        failed[job.job_id] = f"{type(exc).__name__}: {exc}"[:300]
                    continue
                for raw in raw_results:
                    result = _result_from_json(raw)
                    if result.job_id in seen:
                        continue  # a rerun chunk repeating a job: first result wins
                    seen.add(result.job_id)
                    yield result
        finally:
            for future in futures:
                future.release()
        for job in jobs:  # a chunk that failed for good still yields a row per job
            if job.job_id not in seen:
                seen.add(job.job_id)
                why = failed.get(job.job_id, "no result came back")
                yield ExecutionResult(job.job_id, "sandbox_error", f"the cluster could not run this submission ({why})")

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    def __enter__(self) -> "DaskExecutor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _completed(iterator: Iterable[Any], chunks: dict[str, list[Job]]) -> Iterator[tuple[Any, list[Job]]]:
    for future in iterator:
        yield future, chunks[future.key]
