"""Pick the executor that runs student code: ``--sandbox auto|bwrap|none``.

* ``bwrap``: the sandboxed ``autograder.execution.pool.WorkerPool`` (bubblewrap);
  refuses to start if it is not available;
* ``auto`` (default): the ``WorkerPool`` when it can be used (it chooses
  bubblewrap or plain process limits itself), else the unsandboxed
  ``ForkExecutor`` with a warning;
* ``none``: ``ForkExecutor``: forked children with resource limits, no isolation
  (for trusted notebooks, or inside another sandbox).

With a Dask scheduler (``grade --scheduler`` or course.yaml's ``grading.scheduler``)
the same choice is made on every Dask worker instead, and this process only
coordinates (``autograder.execution.dask_executor``; docs/cluster.md).
"""
from __future__ import annotations

import inspect
import shutil
from typing import Any

from autograder.config import GradingLimits
from autograder.labs import Lab

CHOICES = ("auto", "bwrap", "none")


class ExecutorUnavailable(RuntimeError):
    pass


def _worker_pool() -> Any | None:
    try:
        from autograder.execution.pool import WorkerPool
    except ImportError:
        return None
    return WorkerPool


def _make_pool(cls: Any, lab: Lab, limits: GradingLimits, workers: int, sandbox: str | None) -> Any:
    kwargs: dict[str, Any] = {"workers": workers}
    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        params = {}
    if sandbox and "sandbox" in params:
        kwargs["sandbox"] = sandbox
    return cls([lab], limits, **kwargs)


def _make_dask(kind: str, lab: Lab, limits: GradingLimits) -> tuple[Any, str, list[str]]:
    """Chunks of submissions to the Dask workers, each running a warm pool of its own."""
    try:
        from autograder.execution.dask_executor import DaskExecutor
    except ImportError as exc:  # distributed not installed
        raise ExecutorUnavailable(f"--scheduler needs Dask: pip install -e '.[cluster]' ({exc})") from exc
    sandbox = {"auto": None, "bwrap": "bwrap", "none": "rlimits"}[kind]
    try:
        executor = DaskExecutor(limits.scheduler, None, [lab], limits=limits, sandbox=sandbox)
    except (OSError, TimeoutError) as exc:
        raise ExecutorUnavailable(f"cannot reach the Dask scheduler at {limits.scheduler}: {exc}") from exc
    n = executor.n_workers
    warnings = [] if n else [f"the Dask scheduler at {limits.scheduler} has no workers yet; waiting for them"]
    return executor, f"Dask cluster {executor.address}: {n} worker(s), each a warm WorkerPool ({kind})", warnings


def make_executor(kind: str, lab: Lab, limits: GradingLimits, workers: int) -> tuple[Any, str, list[str]]:
    """(executor, description for the summary, warnings for the TA)."""
    if kind not in CHOICES:
        raise ExecutorUnavailable(f"--sandbox must be one of {', '.join(CHOICES)}")
    if getattr(limits, "scheduler", ""):
        return _make_dask(kind, lab, limits)
    warnings: list[str] = []
    if kind in ("auto", "bwrap"):
        pool = _worker_pool()
        if pool is not None:
            if kind == "bwrap" and shutil.which("bwrap") is None:
                raise ExecutorUnavailable("--sandbox bwrap: bubblewrap (bwrap) is not installed; run `make system-deps` or use --sandbox auto")
            try:
                executor = _make_pool(pool, lab, limits, workers, "bwrap" if kind == "bwrap" else None)
            except Exception as exc:  # noqa: BLE001 - fall back below or report
                if kind == "bwrap":
                    raise ExecutorUnavailable(f"the sandboxed worker pool could not start: {exc}") from exc
                warnings.append(f"the sandboxed worker pool could not start ({exc}); using unsandboxed forked children")
            else:
                detail = getattr(executor, "sandbox_detail", None) or getattr(executor, "sandbox", "sandboxed")
                reason = getattr(executor, "fallback_reason", "")
                if reason:
                    warnings.append(f"bubblewrap is not usable here ({reason}); the worker pool isolates with process limits only")
                return executor, f"WorkerPool: {detail}", warnings
        elif kind == "bwrap":
            raise ExecutorUnavailable("--sandbox bwrap: the sandboxed worker pool (autograder.execution.pool) is not installed in this checkout")
        else:
            warnings.append("the sandboxed worker pool is not available; student code runs in forked children WITHOUT a sandbox")
    from autograder.execution.local import ForkExecutor

    return ForkExecutor([lab], limits, workers=workers), "ForkExecutor (no sandbox)", warnings
