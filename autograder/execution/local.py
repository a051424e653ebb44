"""``ForkExecutor``: run each job in a forked child, with limits but WITHOUT a sandbox.

This is the fallback (``--sandbox none``) for machines without the sandboxed
``WorkerPool``: it implements the same :class:`~autograder.execution.api.Executor`
protocol. The parent imports torch and the labs' probes once, then forks one
child per job (up to ``workers`` at a time), so a child starts in milliseconds.

Each child runs the job's cells and the lab's probes and streams every cell
outcome and probe result to the parent as one JSON line, so a child that hangs,
crashes or is killed still leaves everything it finished. Limits: wall clock
(``timeout_s``, the whole process group is killed), address space
(``memory_mb`` on top of what the preloaded parent already maps), output size
(``max_output_kb``, via RLIMIT_FSIZE on the captured stdout/stderr). The child
dies with the parent (PR_SET_PDEATHSIG), so ``kill -9`` of a batch leaves no
stragglers. It does not restrict the file system or the network: use it only
for trusted submissions or inside another sandbox.
"""
from __future__ import annotations

import faulthandler
import json
import os
import resource
import selectors
import shutil
import signal
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Sequence

from autograder.config import GradingLimits
from autograder.execution.api import ExecutionResult, Job
from autograder.labs import Lab

MAX_EVENT_BYTES = 64 * 1024 * 1024  # protocol data from one child (probe tensors included)
OUTPUT_TAIL_BYTES = 4096


def _set_pdeathsig() -> None:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux: the pipe closing still ends the child
        pass


def _vm_size_bytes() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def provided_imports(lab: Lab) -> list[str]:
    """Modules the lab's provided (instructor, locked) cells import at top level."""
    import ast

    from autograder.authoring import cells as C
    from autograder.execution.run_cells import translate
    from autograder.scoring.inprocess import trusted_notebook

    names: list[str] = []
    for cell in trusted_notebook(lab).get("cells", []):
        if cell.get("cell_type") != "code" or not C.is_locked(cell) or C.is_solution(cell):
            continue
        try:
            tree = ast.parse(translate(C.source_text(cell)))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.append(node.module)
    return list(dict.fromkeys(names))


def preload_provided_imports(lab: Lab) -> None:
    """Import once in the parent what every child would import (e.g. otter: 1.5 s)."""
    import contextlib
    import importlib
    import io

    for name in provided_imports(lab):
        with contextlib.suppress(Exception), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            importlib.import_module(name)


def _user_process_count() -> int:
    uid, count = os.getuid(), 0
    try:
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    if os.stat(f"/proc/{name}").st_uid == uid:
                        count += 1
                except OSError:
                    pass
    except OSError:
        return 4096
    return count


@dataclass
class _Child:
    job: Job
    pid: int
    fd: int
    out: Any  # temp file holding the child's stdout/stderr
    workdir: str  # the child's private working directory (removed afterwards)
    deadline: float
    started: float
    buffer: bytearray = field(default_factory=bytearray)
    received: int = 0
    cells: list[dict[str, Any]] = field(default_factory=list)
    probes: dict[str, dict[str, Any]] = field(default_factory=dict)
    done: bool = False
    eof: bool = False
    killed: str = ""  # why the parent killed it
    status: int | None = None
    rusage: Any = None


class ForkExecutor:
    """Executor without isolation: forked children with rlimits (see module doc)."""

    sandbox = "none (forked child, resource limits only)"

    def __init__(self, labs: Sequence[Lab], limits: GradingLimits | None = None, workers: int | None = None) -> None:
        from autograder.scoring.inprocess import probes_of

        self.limits = limits or GradingLimits()
        self.workers = max(1, int(workers or self.limits.worker_count()))
        self.labs = {lab.name: lab for lab in labs}
        try:  # preload what every job needs, once, before any fork
            import torch  # noqa: F401
        except ImportError:  # pragma: no cover
            pass
        self.probes = {name: probes_of(lab) for name, lab in self.labs.items()}
        for lab in self.labs.values():
            preload_provided_imports(lab)
        self._children: dict[int, _Child] = {}

    # -- the Executor protocol -------------------------------------------------
    def run_many(self, jobs: Iterable[Job]) -> Iterator[ExecutionResult]:
        pending = deque(jobs)
        sel = selectors.DefaultSelector()
        try:
            while pending or self._children:
                while pending and len(self._children) < self.workers:
                    job = pending.popleft()
                    if job.lab not in self.labs:
                        yield ExecutionResult(job.job_id, "sandbox_error", f"the executor was not set up for lab {job.lab!r}")
                        continue
                    child = self._spawn(job)
                    self._children[child.pid] = child
                    sel.register(child.fd, selectors.EVENT_READ, child)
                now = time.monotonic()
                wait = max(0.0, min((c.deadline for c in self._children.values()), default=now) - now)
                for key, _ in sel.select(timeout=min(wait, 0.2)):
                    self._read(key.data)
                    if key.data.eof:
                        self._close_fd(key.data, sel)
                for child in list(self._children.values()):
                    if not child.eof and time.monotonic() > child.deadline and not child.killed:
                        child.killed = "timeout"
                        self._kill(child)
                    if child.status is None:
                        pid, status, rusage = os.wait4(child.pid, os.WNOHANG)
                        if pid:
                            child.status, child.rusage = status, rusage
                    if child.status is not None:
                        if not child.eof:
                            self._read(child)  # whatever it wrote before exiting
                        self._close_fd(child, sel)
                        del self._children[child.pid]
                        result = self._result(child)
                        away = time.monotonic()
                        yield result
                        # the consumer may have been busy (a check session): a child blocked on a
                        # full pipe meanwhile must not be charged for that time
                        away = time.monotonic() - away
                        for other in self._children.values():
                            other.deadline += away
        finally:
            sel.close()
            self.close()

    def close(self) -> None:
        for child in list(self._children.values()):
            self._kill(child)
            if child.fd >= 0:
                os.close(child.fd)
                child.fd = -1
            try:
                os.waitpid(child.pid, 0)
            except ChildProcessError:
                pass
            self._cleanup(child)
        self._children.clear()

    def __enter__(self) -> "ForkExecutor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- parent side -------------------------------------------------------------
    def _spawn(self, job: Job) -> _Child:
        read_fd, write_fd = os.pipe()
        out = tempfile.TemporaryFile(prefix="autograder-out-")
        workdir = tempfile.mkdtemp(prefix="autograder-job-")
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            code = 0
            try:
                os.close(read_fd)
                self._child_main(job, write_fd, out.fileno(), workdir)
            except BaseException:  # noqa: BLE001
                code = 70
            finally:
                os._exit(code)
        os.close(write_fd)
        os.set_blocking(read_fd, False)
        now = time.monotonic()
        return _Child(job, pid, read_fd, out, workdir, now + float(self.limits.timeout_s), now)

    def _read(self, child: _Child) -> None:
        while True:
            try:
                chunk = os.read(child.fd, 1 << 16)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                child.eof = True
                return
            child.received += len(chunk)
            if child.received > MAX_EVENT_BYTES:
                child.killed = child.killed or "output_limit"
                self._kill(child)
                child.buffer.clear()
                continue
            child.buffer += chunk
            while b"\n" in child.buffer:
                line, _, rest = bytes(child.buffer).partition(b"\n")
                child.buffer = bytearray(rest)
                self._event(child, line)

    @staticmethod
    def _close_fd(child: _Child, sel: selectors.BaseSelector) -> None:
        if child.fd < 0:
            return
        try:
            sel.unregister(child.fd)
        except (KeyError, ValueError):
            pass
        os.close(child.fd)
        child.fd = -1
        child.eof = True

    @staticmethod
    def _event(child: _Child, line: bytes) -> None:
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):
            return
        if not isinstance(event, dict):
            return
        if "cell" in event and isinstance(event["cell"], dict):
            child.cells.append(event["cell"])
        elif "probe" in event and isinstance(event.get("result"), dict):
            child.probes[str(event["probe"])] = event["result"]
        elif event.get("done") is True:
            child.done = True

    def _kill(self, child: _Child) -> None:
        for target in (lambda: os.killpg(child.pid, signal.SIGKILL), lambda: os.kill(child.pid, signal.SIGKILL)):
            try:
                target()
            except (ProcessLookupError, PermissionError):
                pass

    def _cleanup(self, child: _Child) -> None:
        try:
            os.killpg(child.pid, signal.SIGKILL)  # anything the student's code left running
        except (ProcessLookupError, PermissionError):
            pass
        try:
            child.out.close()
        except OSError:
            pass
        shutil.rmtree(child.workdir, ignore_errors=True)

    def _tail(self, child: _Child) -> str:
        try:
            child.out.seek(0, os.SEEK_END)
            size = child.out.tell()
            child.out.seek(max(0, size - OUTPUT_TAIL_BYTES))
            return child.out.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _where(self, child: _Child) -> str:
        done = len(child.cells)
        if done < len(child.job.cells):
            return f"cell '{child.job.cells[done].grade_id}'"
        lab_probes = list(self.probes[child.job.lab].probes)
        left = [p for p in lab_probes if p not in child.probes]
        return f"the hidden test probe '{left[0]}'" if left else "the end of grading"

    def _result(self, child: _Child) -> ExecutionResult:
        wall = time.monotonic() - child.started
        status_code = child.status or 0
        cpu = (child.rusage.ru_utime + child.rusage.ru_stime) if child.rusage else 0.0
        rss = (child.rusage.ru_maxrss / 1024.0) if child.rusage else 0.0
        where = self._where(child)
        lim = self.limits
        if child.done and not child.killed:
            status, message = "ok", ""
        elif child.killed == "timeout":
            status, message = "timeout", f"stopped after {lim.timeout_s:g} s (wall clock) while running {where}"
        elif child.killed == "output_limit":
            status, message = "output_limit", "the notebook's process sent more data than the grader accepts"
        elif os.WIFSIGNALED(status_code) and os.WTERMSIG(status_code) == signal.SIGXFSZ:
            status, message = "output_limit", f"the notebook printed more than {lim.max_output_kb} KB (while running {where})"
        elif os.WIFSIGNALED(status_code) and os.WTERMSIG(status_code) == signal.SIGKILL:
            status, message = "memory", f"the process was killed (out of memory?) while running {where}"
        elif any(c.get("error_type") == "MemoryError" for c in child.cells[-1:]):
            status, message = "memory", f"ran out of memory (limit {lim.memory_mb} MB) while running {where}"
        elif os.WIFSIGNALED(status_code):
            sig = os.WTERMSIG(status_code)
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            status, message = "crash", f"the notebook's process crashed ({name}) while running {where}"
        else:
            code = os.WEXITSTATUS(status_code) if os.WIFEXITED(status_code) else -1
            status, message = "crash", f"the notebook's process exited early (exit code {code}) while running {where}"
        result = ExecutionResult(
            job_id=child.job.job_id, status=status, message=message, cells=child.cells, probes=child.probes,
            output_tail=self._tail(child), wall_s=round(wall, 3), cpu_s=round(cpu, 3), peak_rss_mb=round(rss, 1),
            sandbox=self.sandbox,
        )
        self._cleanup(child)
        return result

    # -- child side --------------------------------------------------------------
    def _child_main(self, job: Job, fd: int, out_fd: int, workdir: str) -> None:  # pragma: no cover - runs in the child
        from autograder.execution.program import CellRun
        from autograder.execution.run_cells import new_namespace, run_cell
        from autograder.scoring.probe import run_probes

        os.setpgid(0, 0)
        _set_pdeathsig()
        faulthandler.disable()  # a parent's handler (pytest's) would print a student's segfault as ours
        os.chdir(workdir)  # files the notebook writes (logs, checkpoints) land here, not in the TA's folder
        os.environ["TMPDIR"] = workdir
        tempfile.tempdir = None
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        # whatever the parent had bound (a test runner's capture, a progress bar), print goes to the file
        sys.stdout = sys.__stdout__ = open(1, "w", encoding="utf-8", errors="replace", closefd=False)
        sys.stderr = sys.__stderr__ = open(2, "w", encoding="utf-8", errors="replace", closefd=False)
        lim = self.limits
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (lim.max_output_kb * 1024, lim.max_output_kb * 1024))
        if lim.memory_mb:
            cap = _vm_size_bytes() + int(lim.memory_mb) * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        if lim.max_processes:  # counted per user (and not enforced for root): a fork-bomb brake only
            nproc = _user_process_count() + int(lim.max_processes)
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        lab = self.labs[job.lab]
        os.environ[lab.fast_env] = "1"
        os.environ["MPLBACKEND"] = "Agg"
        try:
            import torch

            torch.set_num_threads(1)
        except Exception:  # noqa: BLE001
            pass

        def emit(event: dict[str, Any]) -> None:
            data = (json.dumps(event, allow_nan=True) + "\n").encode()
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]

        ns = new_namespace()
        for cell in job.cells:
            outcome = run_cell(cell if isinstance(cell, CellRun) else CellRun(**cell), ns)
            emit({"cell": outcome.as_dict()})
        run_probes(self.probes[job.lab], ns, emit=lambda name, result: emit({"probe": name, "result": result}))
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:  # noqa: BLE001
            pass
        emit({"done": True})
