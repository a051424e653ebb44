"""``WorkerPool``: warm, sandboxed workers that run student code (the default executor).

Layers, from the outside in (docs/security.md says what each one guarantees):

1. **Warm workers.** One long-lived worker per core imports torch, the framework
   and each lab's probes once (seconds), then forks a fresh child per submission
   (milliseconds). A child starts from the worker's untouched memory, so nothing
   a submission patches (torch, numpy, builtins) reaches the next one.
2. **Bubblewrap** (when available): each worker runs in its own PID, network,
   IPC, UTS and mount namespace, with a read-only view of only what Python and
   torch need, the framework's package and each lab's ``hidden/probes.py``
   (bound alone, at ``/grader/probes/<lab>.py``). No solutions, hidden checks,
   points, thresholds, rubrics, submissions or output directory are in the view.
   Without bubblewrap the workers run as plain processes ("rlimits" fallback).
3. **The child** starts a new session, drops to a per-worker unprivileged uid
   (when the pool runs as root), gets rlimits (address space, processes, file
   size, CPU, no core dumps) and a seccomp filter, and writes only to a private
   scratch directory that is deleted afterwards (also its HOME, TMPDIR and the
   torch/triton/matplotlib caches: nothing on a shared /tmp).
4. **Kill the tree.** After each child, the worker kills every process left in
   its PID namespace (or, in the fallback, its subtree: it is a child
   subreaper), so a daemon or fork bomb cannot outlive its submission. The
   worker enforces the wall clock; the pool's watchdog kills and restarts a
   worker that stops answering. Per-worker memory and pids cgroups (cgroup v1,
   when writable) bound everything a submission starts, forks included.
5. **Plain data only.** The child streams one JSON line per finished cell and
   probe straight to the pool over a pipe (a later crash loses only what had
   not finished); the pool parses it with size caps, validates its structure
   and never unpickles anything. Verdicts are made later, on the trusted side.

Usage::

    with WorkerPool([lab], config.grading) as pool:
        for result in pool.run_many(jobs):
            ...
"""
from __future__ import annotations

import itertools
import json
import math
import os
import queue
import selectors
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from autograder.config import GradingLimits
from autograder.execution.api import ExecutionResult, Job
from autograder.labs import Lab

MAX_RESULT_BYTES = 8 * 1024 * 1024  # JSON a child may send about one submission
MAX_LINE_BYTES = MAX_RESULT_BYTES
MAX_TEXT = 2000
PROBES_IN_VIEW = "/grader/probes"
WATCHDOG_GRACE_S = 15.0  # beyond timeout_s before the pool gives up on a worker
EOF_GRACE_S = 2.0
WORKER_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP", "CAP_KILL", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER")
TMP_PREFIX = "autograder-pool-"  # + owner pid: sweep_stale() removes those of dead pools
CGROUP_PREFIX = "autograder-"  # + owner pid + slot
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "fonts", "localtime", "mime.types")

_BOOTSTRAP = "import sys; sys.path.insert(0, {parent!r}); from autograder.execution.worker import main; main()"


class SandboxUnavailable(RuntimeError):
    """The requested isolation cannot be provided on this machine."""


# ----------------------------------------------------------------------------- helpers

def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def _bwrap_works(bwrap: str) -> str:
    """"" when a minimal sandbox starts, else why not."""
    args = [bwrap, "--ro-bind", "/", "/", "--unshare-pid", "--unshare-net", "--die-with-parent", "--dev", "/dev",
            "--proc", "/proc", "--tmpfs", "/tmp"]
    if os.geteuid() != 0:
        args.append("--unshare-user")
    try:
        out = subprocess.run([*args, "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    return "" if out.returncode == 0 else (out.stderr.decode(errors="replace").strip() or f"exit {out.returncode}")


def _open_to_others(path: Path) -> bool:
    """Can an unprivileged uid read ``path`` (every ancestor searchable by others)?"""
    try:
        path = path.resolve()
        for p in [path, *path.parents]:
            if not os.stat(p).st_mode & stat.S_IXOTH:
                return False
        return bool(os.stat(path).st_mode & stat.S_IROTH)
    except OSError:
        return False


def _provided_imports(lab: Lab) -> list[str]:
    try:
        from autograder.execution.local import provided_imports

        return provided_imports(lab)
    except Exception:  # noqa: BLE001 - no trusted notebook yet: nothing to preload
        return []


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _number(value: Any, default: float = 0.0) -> float:
    if type(value) in (int, float) and math.isfinite(value):
        return float(value)
    return default


class Cgroup:
    """Per-worker memory and pids cgroups (v1), created under the pool's own cgroups
    when the hierarchy is writable; every method is a no-op otherwise. The bench uses
    a memory-only one to read a process tree's exact peak."""

    def __init__(self, name: str, controllers: Sequence[str] = ("memory", "pids")) -> None:
        self.dirs: dict[str, Path] = {}
        for controller, base in self.bases():
            if controller not in controllers:
                continue
            target = base / name
            try:
                target.mkdir(exist_ok=True)
                (target / "cgroup.procs").stat()
            except OSError:
                continue
            self.dirs[controller] = target

    @staticmethod
    def bases() -> list[tuple[str, Path]]:
        """(controller, the folder our own memory/pids cgroups live in)."""
        try:
            lines = Path("/proc/self/cgroup").read_text().splitlines()
        except OSError:
            return []
        found = []
        for line in lines:
            parts = line.split(":", 2)
            if len(parts) != 3:
                continue
            for controller in parts[1].split(","):
                if controller not in ("memory", "pids"):
                    continue
                base = Path("/sys/fs/cgroup") / controller / parts[2].lstrip("/")
                if not base.is_dir():
                    base = Path("/sys/fs/cgroup") / controller
                found.append((controller, base))
        return found

    @property
    def controllers(self) -> list[str]:
        return sorted(self.dirs)

    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs.values()]

    def _write(self, controller: str, name: str, value: int | str) -> bool:
        d = self.dirs.get(controller)
        if d is None:
            return False
        try:
            (d / name).write_text(str(value))
            return True
        except OSError:
            return False

    def _read(self, controller: str, name: str) -> str:
        d = self.dirs.get(controller)
        if d is None:
            return ""
        try:
            return (d / name).read_text()
        except OSError:
            return ""

    def set_memory(self, limit: int) -> bool:
        return self._write("memory", "memory.limit_in_bytes", limit)

    def memory_usage(self) -> int:
        try:
            return int(self._read("memory", "memory.usage_in_bytes").strip() or 0)
        except ValueError:
            return 0

    def memory_peak_bytes(self) -> int:
        try:
            return int(self._read("memory", "memory.max_usage_in_bytes").strip() or 0)
        except ValueError:
            return 0

    def set_pids(self, limit: int) -> bool:
        return self._write("pids", "pids.max", limit)

    def oom_kills(self) -> int | None:
        if "memory" not in self.dirs:
            return None
        for line in self._read("memory", "memory.oom_control").splitlines():
            if line.startswith("oom_kill "):
                try:
                    return int(line.split()[1])
                except (IndexError, ValueError):
                    return None
        return None

    def pids(self) -> set[int]:
        found: set[int] = set()
        for d in self.dirs.values():
            try:
                found |= {int(x) for x in (d / "cgroup.procs").read_text().split()}
            except (OSError, ValueError):
                pass
        return found

    def kill_all(self, timeout: float = 5.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.02)

    def remove(self) -> None:
        self.kill_all()
        for d in self.dirs.values():
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)
        self.dirs.clear()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. EPERM: it exists
        return True
    return True


def _owner(name: str, prefix: str) -> int | None:
    """The pid in ``<prefix><pid>-...``, or None."""
    head = name[len(prefix):].split("-", 1)[0] if name.startswith(prefix) else ""
    return int(head) if head.isdigit() else None


def sweep_stale() -> list[str]:
    """Remove what pools whose process died without ``close()`` (e.g. ``kill -9`` of the
    grader: its workers die with it) left behind: their temp folders and their (then
    empty) cgroups. Only entries whose owner pid is gone are touched; a cgroup that
    still holds a process cannot be removed. Returns what was removed."""
    removed = []
    try:
        entries = list(Path(tempfile.gettempdir()).iterdir())
    except OSError:
        entries = []
    for path in entries:
        pid = _owner(path.name, TMP_PREFIX)
        if pid is not None and pid != os.getpid() and not _alive(pid) and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(str(path))
    for _controller, base in Cgroup.bases():
        try:
            groups = list(base.glob(f"{CGROUP_PREFIX}*"))
        except OSError:
            continue
        for group in groups:
            pid = _owner(group.name, CGROUP_PREFIX)
            if pid is not None and pid != os.getpid() and not _alive(pid):
                try:
                    group.rmdir()
                    removed.append(str(group))
                except OSError:
                    pass
    return removed


# ----------------------------------------------------------------------------- state

@dataclass
class _Task:
    token: int
    job: Job
    batch: int
    attempt: int = 0
    worker: "_Worker | None" = None
    body: bytes = b""
    body_off: int = 0
    body_fd: int = -1
    result_fd: int = -1
    output_fd: int = -1
    buffer: bytearray = field(default_factory=bytearray)
    result_bytes: int = 0
    output: bytearray = field(default_factory=bytearray)
    output_total: int = 0
    cells: list[dict[str, Any]] = field(default_factory=list)
    probes: dict[str, dict[str, Any]] = field(default_factory=dict)
    begin: dict[str, Any] | None = None
    done: bool = False
    fatal: str = ""
    end: dict[str, Any] | None = None
    end_at: float = 0.0
    sent_at: float = 0.0
    kill_reason: str = ""
    oom_before: int | None = None
    cancelled: bool = False
    patched: list[str] = field(default_factory=list)


@dataclass
class _Worker:
    slot: int
    uid: int | None
    cgroup: Cgroup
    proc: subprocess.Popen | None = None
    sock: socket.socket | None = None
    log: Any = None
    scratch: str = ""
    state: str = "new"  # new | starting | idle | busy | dead
    started_at: float = 0.0
    ready: dict[str, Any] = field(default_factory=dict)
    task: _Task | None = None
    failures: int = 0
    last_error: str = ""
    recv_buf: bytes = b""


class WorkerPool:
    """Executor with warm sandboxed workers (see the module docstring).

    ``sandbox``: ``"auto"`` (bubblewrap when it works here, else the rlimits
    fallback), ``"bwrap"``/``"bubblewrap"`` (required: raises
    :class:`SandboxUnavailable` otherwise) or ``"rlimits"``/``"none"``.
    """

    def __init__(self, labs: Sequence[Lab], limits: GradingLimits | None = None, workers: int | None = None,
                 sandbox: str = "auto", *, startup_timeout_s: float = 300.0, max_result_bytes: int = MAX_RESULT_BYTES,
                 seccomp: bool = True, warm_up: bool = True) -> None:
        self.limits = limits or GradingLimits()
        self.labs = {lab.name: lab for lab in labs}
        self.n_workers = max(1, int(workers or self.limits.worker_count()))
        self.startup_timeout_s = float(startup_timeout_s)
        self.max_result_bytes = int(max_result_bytes)
        self.seccomp = seccomp
        self.warm_up = bool(warm_up)  # False only to measure what the warm-up saves each child
        self.is_root = os.geteuid() == 0
        choice = (sandbox or "auto").lower()
        if choice not in ("auto", "bwrap", "bubblewrap", "rlimits", "none"):
            raise ValueError(f"sandbox must be auto, bwrap or rlimits, not {sandbox!r}")
        self._bwrap = bwrap_path()
        why_not = "bubblewrap (bwrap) is not installed" if self._bwrap is None else ""
        if choice in ("auto", "bwrap", "bubblewrap") and self._bwrap is not None:
            why_not = _bwrap_works(self._bwrap)
        if choice in ("bwrap", "bubblewrap") and why_not:
            raise SandboxUnavailable(f"bubblewrap cannot be used here: {why_not}")
        self.sandbox = "bubblewrap" if choice in ("auto", "bwrap", "bubblewrap") and not why_not else "rlimits"
        self.fallback_reason = why_not if self.sandbox == "rlimits" and choice == "auto" else ""
        self._strict = choice in ("bwrap", "bubblewrap")
        sweep_stale()
        self._tmp = tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-")
        os.chmod(self._tmp, 0o711)
        self._probe_names: dict[str, list[str]] = {}
        self._tokens = itertools.count(1)
        self._batches = itertools.count(1)
        self._lock = threading.Lock()
        self._inbox: deque[_Task] = deque()
        self._cancelled: set[int] = set()
        self._outboxes: dict[int, queue.Queue] = {}
        self._stopping = False
        self._closed = False
        self._fatal = ""
        self._ready = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._workers = [self._new_worker(i) for i in range(self.n_workers)]
        self._pending: deque[_Task] = deque()
        self._running: dict[int, _Task] = {}
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._wake_r, selectors.EVENT_READ, ("wake", None))
        self._hub = threading.Thread(target=self._hub_main, name="autograder-pool", daemon=True)
        self._hub.start()
        if not self._ready.wait(self.startup_timeout_s + 30) or self._fatal:
            reason = self._fatal or "the workers did not start in time"
            self.close()
            raise SandboxUnavailable(f"the worker pool could not start: {reason}")

    # ------------------------------------------------------------------ public API
    @property
    def sandbox_detail(self) -> str:
        parts = [self.sandbox]
        if self.sandbox == "bubblewrap":
            parts.append("namespaces: pid, net, ipc, uts, mount (read-only view)")
        elif self.fallback_reason:
            parts.append(f"bubblewrap unavailable: {self.fallback_reason}")
        w = self._workers[0] if self._workers else None
        if w is not None and w.uid is not None:
            parts.append("children run under a per-worker unprivileged uid")
        if w is not None and w.cgroup.controllers:
            parts.append("cgroups: " + "+".join(w.cgroup.controllers))
        if self.seccomp:
            parts.append("seccomp filter")
        return "; ".join(parts)

    def probe_names(self, lab: str) -> list[str]:
        return list(self._probe_names.get(lab, []))

    def worker_pids(self) -> list[int]:
        """Host pids of the live workers' top processes (bwrap, or the worker itself)."""
        return [w.proc.pid for w in list(self._workers) if w.proc is not None and w.proc.poll() is None]

    def sandbox_uids(self) -> list[int]:
        """The unprivileged uids submissions run under (empty when not running as root)."""
        return [w.uid for w in list(self._workers) if w.uid is not None]

    def run_many(self, jobs: Iterable[Job]) -> Iterator[ExecutionResult]:
        """Yield one result per job, in the order they finish. Jobs are taken from
        ``jobs`` lazily (a few per worker ahead), so a generator of jobs is fine."""
        if self._closed:
            raise RuntimeError("the worker pool is closed")
        batch = next(self._batches)
        box: queue.Queue = queue.Queue()
        with self._lock:
            self._outboxes[batch] = box
        outstanding: dict[int, Job] = {}
        window = self.n_workers * 2
        it = iter(jobs)
        exhausted = False
        try:
            while True:
                while not exhausted and len(outstanding) < window:
                    try:
                        job = next(it)
                    except StopIteration:
                        exhausted = True
                        break
                    if job.lab not in self.labs:
                        yield ExecutionResult(job.job_id, "sandbox_error", f"the worker pool was not set up for lab {job.lab!r}", sandbox=self.sandbox)
                        continue
                    task = _Task(next(self._tokens), job, batch)
                    outstanding[task.token] = job
                    self._submit(task)
                if exhausted and not outstanding:
                    return
                try:
                    token, result = box.get(timeout=1.0)
                except queue.Empty:
                    if self._hub.is_alive():
                        continue
                    try:  # the hub is gone: whatever it did not answer is lost
                        token, result = box.get_nowait()
                    except queue.Empty:
                        token, job = next(iter(outstanding.items()))
                        result = ExecutionResult(job.job_id, "sandbox_error", f"the worker pool stopped: {self._fatal or 'closed'}", sandbox=self.sandbox)
                outstanding.pop(token, None)
                yield result
        finally:
            with self._lock:
                self._outboxes.pop(batch, None)
                if outstanding:
                    self._cancelled.add(batch)
            self._wake()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stopping = True
        self._wake()
        if self._hub.is_alive() and threading.current_thread() is not self._hub:
            self._hub.join(timeout=30)
        for w in self._workers:
            self._stop_worker(w)
            w.cgroup.remove()
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass

    # ------------------------------------------------------------------ submission side
    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except (BlockingIOError, OSError):
            pass

    def _submit(self, task: _Task) -> None:
        body = json.dumps({"cells": task.job.to_json()["cells"]}).encode()
        task.body = body
        with self._lock:
            self._inbox.append(task)
        self._wake()

    def _deliver(self, task: _Task, result: ExecutionResult) -> None:
        with self._lock:
            box = self._outboxes.get(task.batch)
        if box is not None and not task.cancelled:
            box.put((task.token, result))

    # ------------------------------------------------------------------ worker processes
    def _new_worker(self, slot: int) -> _Worker:
        uid = None
        if self.is_root:
            if self.sandbox == "bubblewrap" or all(_open_to_others(p) for p in self._needed_paths()):
                uid = 1_000_000 + (os.getpid() % 4_000_000) * 256 + slot % 256
        cgroup = Cgroup(f"{CGROUP_PREFIX}{os.getpid()}-{slot}")
        return _Worker(slot=slot, uid=uid, cgroup=cgroup)

    def _needed_paths(self) -> list[Path]:
        import autograder

        paths = [Path(sys.prefix), Path(sys.base_prefix), Path(os.path.realpath(sys.executable)).parent,
                 Path(autograder.__file__).resolve().parent]
        if self.sandbox != "bubblewrap":
            paths += [lab.hidden_dir / "probes.py" for lab in self.labs.values()]
        return paths

    def _view_roots(self) -> list[Path]:
        """The folders bound read-only into the view besides /usr: Python, the venv and the
        framework's package (outermost folders only, shortest first)."""
        import autograder

        pkg = Path(autograder.__file__).resolve().parent
        roots: list[Path] = []
        for p in (Path(sys.base_prefix), Path(sys.prefix), Path(os.path.realpath(sys.executable)).parent.parent, pkg):
            p = p.resolve()
            if str(p).startswith("/usr/") or p == Path("/usr"):
                continue
            if any(p == r or r in p.parents for r in roots):
                continue
            roots = [r for r in roots if p not in r.parents]
            roots.append(p)
        return sorted(roots, key=lambda q: len(q.parts))

    def _tmp_view_names(self) -> list[str]:
        """Top-level names under the sandbox's /tmp that are read-only parts of the view
        (a checkout or venv living in /tmp): the worker's clean-up leaves them alone."""
        return sorted({p.parts[2] for p in self._view_roots() if p.parts[:2] == ("/", "tmp") and len(p.parts) > 2})

    def _config(self, w: _Worker) -> dict[str, Any]:
        lim = self.limits
        in_view = self.sandbox == "bubblewrap"
        labs = {}
        for name, lab in self.labs.items():
            labs[name] = {
                "probes": f"{PROBES_IN_VIEW}/{name}.py" if in_view else str((lab.hidden_dir / "probes.py").resolve()),
                "fast_env": lab.fast_env,
                "imports": _provided_imports(lab),
            }
        mem = int(lim.memory_mb or 0)
        cfg: dict[str, Any] = {
            "labs": labs,
            "limits": {"timeout_s": float(lim.timeout_s), "memory_mb": mem, "max_processes": int(lim.max_processes or 0),
                       "max_output_kb": int(lim.max_output_kb or 0)},
            "uid": w.uid,
            "pidns": in_view,
            "scratch_root": "/tmp" if in_view else w.scratch,
            "clean_dir": "/dev/shm" if in_view else None,
            "private_scratch_root": True,
            "keep_in_scratch_root": self._tmp_view_names() if in_view else [],
            "pdeathsig": not in_view,
            "as_headroom_bytes": max(mem, 1024) * 1024 * 1024 if mem else 0,
            "max_file_bytes": self._scratch_bytes(),
            "max_job_bytes": 64 << 20,
            "seccomp": self.seccomp,
            "warm_up": self.warm_up,
        }
        if lim.max_processes:
            if w.uid is not None:
                cfg["nproc"] = int(lim.max_processes)
            elif not self.is_root:
                cfg["nproc_relative"] = int(lim.max_processes)
        return cfg

    def _scratch_bytes(self) -> int:
        """Size of the sandbox's /tmp (RAM-backed, so it counts against memory): a quarter
        of memory_mb, between 64 and 512 MB."""
        mem_mb = int(self.limits.memory_mb or 1024)
        return max(64, min(mem_mb // 4, 512)) * 1024 * 1024

    def _bwrap_argv(self, fd: int) -> list[str]:
        import autograder

        assert self._bwrap is not None
        pkg = Path(autograder.__file__).resolve().parent
        args = [self._bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                "--die-with-parent", "--new-session", "--clearenv"]
        if self.is_root:
            args += ["--cap-drop", "ALL"]
            for cap in WORKER_CAPS:
                args += ["--cap-add", cap]
        else:
            args += ["--unshare-user"]
        # The private /tmp first: a Python or checkout that lives under /tmp (a CI clone, a
        # venv in /tmp) is then bound *into* it instead of being hidden by it.
        args += ["--size", str(self._scratch_bytes()), "--perms", "0755", "--tmpfs", "/tmp"]
        made: set[str] = {"/", "/tmp"}

        def parents(path: Path) -> None:
            for parent in reversed(path.parents):
                p = str(parent)
                if p not in made:
                    made.add(p)
                    args.extend(["--perms", "0755", "--dir", p])

        def ro(path: Path, dest: Path | None = None) -> None:
            dest = dest or path
            parents(dest)
            made.add(str(dest))
            args.extend(["--ro-bind", str(path), str(dest)])

        ro(Path("/usr"))
        for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            p = Path("/") / name
            if p.is_symlink():
                args += ["--symlink", os.readlink(p), str(p)]
                made.add(str(p))
            elif p.is_dir():
                ro(p)
        for name in ETC_FILES:
            p = Path("/etc") / name
            if p.exists():
                ro(p)
        for p in self._view_roots():
            ro(p)
        for name, lab in self.labs.items():
            ro((lab.hidden_dir / "probes.py").resolve(), Path(PROBES_IN_VIEW) / f"{name}.py")
        args += ["--proc", "/proc", "--dev", "/dev",
                 "--size", str(64 * 1024 * 1024), "--perms", "1777", "--tmpfs", "/dev/shm",
                 "--remount-ro", "/", "--chdir", "/tmp"]
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
               "MPLCONFIGDIR": "/tmp/.mpl-worker", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
        for key, value in env.items():
            args += ["--setenv", key, value]
        args += ["--", sys.executable, "-I", "-B", "-c", _BOOTSTRAP.format(parent=str(pkg.parent)), str(fd)]
        return args

    def _spawn(self, w: _Worker) -> None:
        import autograder

        self._stop_worker(w)
        parent_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        fd = child_sock.fileno()
        pkg = Path(autograder.__file__).resolve().parent
        w.scratch = tempfile.mkdtemp(prefix=f"w{w.slot}-", dir=self._tmp)
        os.chmod(w.scratch, 0o711)
        if self.sandbox == "bubblewrap":
            argv = self._bwrap_argv(fd)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
            cwd = "/"
        else:
            argv = [sys.executable, "-I", "-B", "-c", _BOOTSTRAP.format(parent=str(pkg.parent)), str(fd)]
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": w.scratch, "LANG": "C.UTF-8",
                   "MPLBACKEND": "Agg", "MPLCONFIGDIR": os.path.join(w.scratch, ".mpl-worker"), "OMP_NUM_THREADS": "1",
                   "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
            cwd = w.scratch
        procs = w.cgroup.procs_files()
        if procs:
            if self.limits.memory_mb:
                w.cgroup.set_memory((int(self.limits.memory_mb) + 4096) * 1024 * 1024)
            if self.limits.max_processes:
                w.cgroup.set_pids(int(self.limits.max_processes) + 64)
            env["AG_CGROUP_PROCS"] = " ".join(procs)
            argv = ["/bin/sh", "-c", 'for f in $AG_CGROUP_PROCS; do echo $$ > "$f" || exit 111; done; exec "$@"', "sh", *argv]
        w.log = tempfile.TemporaryFile(prefix=f"worker{w.slot}-", dir=self._tmp)
        try:
            w.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=w.log, stderr=w.log, pass_fds=(fd,),
                                      cwd=cwd, env=env, start_new_session=True)
        except OSError as exc:
            parent_sock.close()
            child_sock.close()
            w.state, w.last_error = "dead", f"could not start a worker: {exc}"
            w.failures += 1
            return
        child_sock.close()
        w.sock = parent_sock
        w.sock.setblocking(True)
        w.state = "starting"
        w.started_at = time.monotonic()
        w.ready = {}
        w.sock.sendall(json.dumps({"config": self._config(w)}).encode())
        self._sel.register(w.sock, selectors.EVENT_READ, ("worker", w))

    def _log_tail(self, w: _Worker, n: int = 2000) -> str:
        try:
            w.log.seek(0, os.SEEK_END)
            size = w.log.tell()
            w.log.seek(max(0, size - n))
            return w.log.read().decode("utf-8", "replace").strip()
        except (OSError, AttributeError, ValueError):
            return ""

    def _stop_worker(self, w: _Worker) -> None:
        if w.sock is not None:
            try:
                self._sel.unregister(w.sock)
            except (KeyError, ValueError):
                pass
            try:
                w.sock.close()
            except OSError:
                pass
            w.sock = None
        if w.proc is not None:
            try:
                os.killpg(w.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                w.proc.kill()
            except OSError:
                pass
            try:
                w.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            w.proc = None
        w.cgroup.kill_all()
        if w.log is not None:
            try:
                w.log.close()
            except OSError:
                pass
            w.log = None
        if w.scratch:
            shutil.rmtree(w.scratch, ignore_errors=True)
            w.scratch = ""
        w.state = "dead"

    # ------------------------------------------------------------------ the hub thread
    def _hub_main(self) -> None:
        try:
            for w in self._workers:
                self._spawn(w)
            while not self._stopping:
                self._step()
        except BaseException as exc:  # noqa: BLE001 - never leave run_many waiting
            self._fatal = self._fatal or f"internal error in the worker pool: {type(exc).__name__}: {exc}"
            self._ready.set()
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        for task in list(self._running.values()) + list(self._pending):
            self._finish(task, ExecutionResult(task.job.job_id, "sandbox_error", "the worker pool was closed before this submission finished", sandbox=self.sandbox))
        self._pending.clear()
        with self._lock:
            leftover = list(self._inbox)
            self._inbox.clear()
        for task in leftover:
            self._deliver(task, ExecutionResult(task.job.job_id, "sandbox_error", "the worker pool was closed before this submission started", sandbox=self.sandbox))
        for w in self._workers:
            if w.sock is not None:  # closing the socket makes the worker kill its child and exit
                try:
                    w.sock.close()
                except OSError:
                    pass
        deadline = time.monotonic() + 3
        for w in self._workers:
            if w.proc is not None:
                try:
                    w.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
            w.sock = None
            self._stop_worker(w)
        self._sel.close()

    def _step(self) -> None:
        now = time.monotonic()
        with self._lock:
            while self._inbox:
                self._pending.append(self._inbox.popleft())
            cancelled, self._cancelled = self._cancelled, set()
        if cancelled:
            self._cancel(cancelled)
        self._check_workers(now)
        self._assign()
        timeout = 0.2
        for key, events in self._sel.select(timeout):
            kind, obj = key.data
            if kind == "wake":
                try:
                    while os.read(self._wake_r, 4096):
                        pass
                except (BlockingIOError, OSError):
                    pass
            elif kind == "worker":
                self._on_worker(obj)
            elif kind == "result":
                self._read_result(obj)
            elif kind == "output":
                self._read_output(obj)
            elif kind == "body":
                self._write_body(obj)
        now = time.monotonic()
        for task in list(self._running.values()):
            if task.end is not None and (task.result_fd < 0 and task.output_fd < 0 or now > task.end_at + EOF_GRACE_S):
                self._complete(task)
            elif task.end is None and task.sent_at and now > task.sent_at + float(self.limits.timeout_s) + WATCHDOG_GRACE_S:
                w = task.worker
                task.kill_reason = task.kill_reason or "watchdog"
                if w is not None:
                    w.last_error = "the worker stopped answering"
                    self._worker_died(w, now, watchdog=True)

    def _check_workers(self, now: float) -> None:
        for w in self._workers:
            if w.state == "starting" and now - w.started_at > self.startup_timeout_s:
                w.last_error = f"the worker did not become ready within {self.startup_timeout_s:g} s"
                self._worker_died(w, now)
            elif w.state in ("starting", "idle", "busy") and w.proc is not None and w.proc.poll() is not None and w.state != "busy":
                self._worker_died(w, now)
            if w.state in ("dead", "new") and not self._stopping:
                if w.failures >= 3:
                    continue
                self._spawn(w)
        live = [w for w in self._workers if w.state in ("starting", "idle", "busy")]
        if not self._ready.is_set():
            if all(w.state in ("idle", "busy") for w in self._workers):
                self._ready.set()
            elif not live and all(w.failures >= 3 for w in self._workers):
                if self.sandbox == "bubblewrap" and not self._strict:
                    self.fallback_reason = f"bubblewrap workers failed: {self._workers[0].last_error}"
                    self.sandbox = "rlimits"
                    self._workers = [self._new_worker(i) for i in range(self.n_workers)]
                    return
                self._fatal = self._workers[0].last_error or "the workers could not start"
                self._ready.set()
        elif not live and all(w.failures >= 3 for w in self._workers):
            self._fatal = self._workers[0].last_error or "the workers could not start"
            for task in list(self._pending):
                self._finish(task, ExecutionResult(task.job.job_id, "sandbox_error", f"the sandbox could not run this submission: {self._fatal}", sandbox=self.sandbox))
            self._pending.clear()

    def _assign(self) -> None:
        for w in self._workers:
            if not self._pending:
                return
            if w.state != "idle":
                continue
            task = self._pending.popleft()
            if task.cancelled:
                continue
            self._start(w, task)

    def _start(self, w: _Worker, task: _Task) -> None:
        body_r, body_w = os.pipe()
        result_r, result_w = os.pipe()
        output_r, output_w = os.pipe()
        header = json.dumps({"job": {"token": task.token, "lab": task.job.lab}}).encode()
        task.oom_before = w.cgroup.oom_kills()
        try:
            socket.send_fds(w.sock, [header], [body_r, result_w, output_w])
        except OSError as exc:
            for fd in (body_r, body_w, result_r, result_w, output_r, output_w):
                os.close(fd)
            w.last_error = f"could not send a job: {exc}"
            self._pending.appendleft(task)
            self._worker_died(w, time.monotonic())
            return
        for fd in (body_r, result_w, output_w):
            os.close(fd)
        for fd in (body_w, result_r, output_r):
            os.set_blocking(fd, False)
        task.worker, task.body_fd, task.result_fd, task.output_fd = w, body_w, result_r, output_r
        task.body_off, task.sent_at = 0, time.monotonic()
        task.buffer, task.result_bytes, task.output, task.output_total = bytearray(), 0, bytearray(), 0
        task.cells, task.probes, task.begin, task.done, task.fatal, task.end, task.patched = [], {}, None, False, "", None, []
        w.task, w.state = task, "busy"
        self._running[task.token] = task
        self._sel.register(body_w, selectors.EVENT_WRITE, ("body", task))
        self._sel.register(result_r, selectors.EVENT_READ, ("result", task))
        self._sel.register(output_r, selectors.EVENT_READ, ("output", task))

    def _cancel(self, batches: set[int]) -> None:
        keep = deque()
        for task in self._pending:
            if task.batch not in batches:
                keep.append(task)
        self._pending = keep
        for task in self._running.values():
            if task.batch in batches and not task.cancelled:
                task.cancelled = True
                self._kill_task(task, "cancelled")

    def _kill_task(self, task: _Task, reason: str) -> None:
        task.kill_reason = task.kill_reason or reason
        w = task.worker
        if w is not None and w.sock is not None:
            try:
                w.sock.sendall(json.dumps({"kill": task.token, "reason": reason}).encode())
            except OSError:
                pass

    # ------------------------------------------------------------------ events
    def _on_worker(self, w: _Worker) -> None:
        try:
            data = w.sock.recv(1 << 20) if w.sock is not None else b""
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            if w.state == "starting":
                w.last_error = "the worker exited during start-up" + (f": {self._log_tail(w)}" if self._log_tail(w) else "")
            self._worker_died(w, time.monotonic())
            return
        try:
            msg = json.loads(data)
        except (ValueError, RecursionError):
            msg = None
        if not isinstance(msg, dict):
            w.last_error = "the worker sent a malformed message"
            self._worker_died(w, time.monotonic())
            return
        if "ready" in msg and w.state == "starting":
            ready = msg["ready"] if isinstance(msg["ready"], dict) else {}
            errors = ready.get("errors") or {}
            if errors:
                w.last_error = "; ".join(f"{k}: {v}" for k, v in errors.items())
                w.failures = 3
                self._worker_died(w, time.monotonic())
                return
            labs = ready.get("labs") or {}
            for name in self.labs:
                self._probe_names[name] = [str(p) for p in labs.get(name, [])]
            w.ready, w.state, w.failures = ready, "idle", 0
            usage = w.cgroup.memory_usage()
            if self.limits.memory_mb and usage:
                headroom = max(int(self.limits.memory_mb), 1024) * 1024 * 1024
                w.cgroup.set_memory(usage + headroom + 512 * 1024 * 1024)
            if self.limits.max_processes:
                w.cgroup.set_pids(int(self.limits.max_processes) + int(ready.get("threads") or 1) + 8)
        elif "fatal" in msg:
            w.last_error = _text(msg.get("fatal"))
            w.failures = 3
            self._worker_died(w, time.monotonic())
        elif "started" in msg:
            pass
        elif "end" in msg and isinstance(msg["end"], dict):
            task = w.task
            end = msg["end"]
            if task is not None and end.get("token") == task.token:
                task.end, task.end_at = end, time.monotonic()
                w.task, w.state = None, "idle"
                if task.body_fd >= 0:
                    self._close_fd(task, "body_fd")

    def _worker_died(self, w: _Worker, now: float, watchdog: bool = False) -> None:
        task = w.task
        w.task = None
        if w.state == "starting" or w.state == "new":
            w.failures += 1
        if not w.last_error:
            w.last_error = "the worker exited unexpectedly" + (f": {self._log_tail(w)}" if self._log_tail(w) else "")
        self._stop_worker(w)
        if task is not None and task.token in self._running:
            self._drain(task)
            if watchdog:
                task.end = {"token": task.token, "killed": "watchdog"}
                self._complete(task)
            elif task.attempt == 0 and not task.cancelled:
                self._release(task)
                del self._running[task.token]
                task.attempt += 1
                task.worker = None
                self._pending.appendleft(task)
            else:
                task.end = {"token": task.token, "killed": "worker_died"}
                self._complete(task)

    def _close_fd(self, task: _Task, name: str) -> None:
        fd = getattr(task, name)
        if fd < 0:
            return
        try:
            self._sel.unregister(fd)
        except (KeyError, ValueError):
            pass
        try:
            os.close(fd)
        except OSError:
            pass
        setattr(task, name, -1)

    def _release(self, task: _Task) -> None:
        for name in ("body_fd", "result_fd", "output_fd"):
            self._close_fd(task, name)

    def _write_body(self, task: _Task) -> None:
        try:
            while task.body_off < len(task.body):
                n = os.write(task.body_fd, memoryview(task.body)[task.body_off: task.body_off + (1 << 16)])
                task.body_off += n
        except BlockingIOError:
            return
        except OSError:
            pass
        self._close_fd(task, "body_fd")

    def _read_output(self, task: _Task) -> None:
        cap = max(1, int(self.limits.max_output_kb or 256)) * 1024
        while task.output_fd >= 0:
            try:
                chunk = os.read(task.output_fd, 1 << 16)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self._close_fd(task, "output_fd")
                return
            task.output_total += len(chunk)
            task.output += chunk
            if len(task.output) > cap:
                del task.output[: len(task.output) - cap]

    def _read_result(self, task: _Task) -> None:
        while task.result_fd >= 0:
            try:
                chunk = os.read(task.result_fd, 1 << 16)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self._close_fd(task, "result_fd")
                if task.buffer:
                    self._line(task, bytes(task.buffer))
                    task.buffer.clear()
                return
            task.result_bytes += len(chunk)
            if task.result_bytes > self.max_result_bytes:
                task.buffer.clear()
                if not task.kill_reason:
                    self._kill_task(task, "output_limit")
                continue
            task.buffer += chunk
            if b"\n" in chunk:
                lines = bytes(task.buffer).split(b"\n")
                task.buffer = bytearray(lines.pop())
                for line in lines:
                    if line.strip():
                        self._line(task, line)

    def _drain(self, task: _Task) -> None:
        if task.result_fd >= 0:
            self._read_result(task)
        if task.output_fd >= 0:
            self._read_output(task)

    def _line(self, task: _Task, line: bytes) -> None:
        """One JSON event from the child: validated, size-capped, plain data only."""
        if len(line) > MAX_LINE_BYTES or task.kill_reason == "output_limit":
            return
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):
            return
        if not isinstance(event, dict) or len(event) > 3:
            return
        if task.begin is None:
            if "fatal" in event:
                task.fatal = _text(event["fatal"])
            elif isinstance(event.get("begin"), dict) and isinstance(event["begin"].get("nonce"), str):
                task.begin = event["begin"]
            return  # nothing counts before the child said it is set up (no student code ran yet)
        if event.pop("n", None) != task.begin["nonce"]:
            return  # not written by the framework's emitter (e.g. a student writing to inherited fds)
        if "cell" in event:
            cell = _valid_cell(event["cell"], task.job)
            if cell is not None and len(task.cells) < len(task.job.cells):
                task.cells.append(cell)
        elif "probe" in event:
            name = event.get("probe")
            known = self._probe_names.get(task.job.lab, [])
            if isinstance(name, str) and name in known and name not in task.probes:
                task.probes[name] = _valid_probe_result(event.get("result"))
        elif "patched" in event:
            names = event["patched"]
            if isinstance(names, list):
                task.patched = [_text(n, 100) for n in names[:50] if isinstance(n, str)]
        elif event.get("done") is True:
            task.done = True

    # ------------------------------------------------------------------ results
    def _complete(self, task: _Task) -> None:
        self._drain(task)
        self._release(task)
        self._running.pop(task.token, None)
        if task.buffer:
            self._line(task, bytes(task.buffer))
            task.buffer.clear()
        self._finish(task, self._result(task))

    def _finish(self, task: _Task, result: ExecutionResult) -> None:
        self._release(task)
        self._running.pop(task.token, None)
        self._deliver(task, result)

    def _where(self, task: _Task) -> str:
        done = len(task.cells)
        if done < len(task.job.cells):
            return f"cell '{task.job.cells[done].grade_id}'"
        left = [p for p in self._probe_names.get(task.job.lab, []) if p not in task.probes]
        return f"the hidden test probe '{left[0]}'" if left else "the end of grading"

    def _result(self, task: _Task) -> ExecutionResult:
        end = task.end or {}
        lim = self.limits
        where = self._where(task)
        killed = task.kill_reason or _text(end.get("killed"), 40)
        sig = end.get("signal") if isinstance(end.get("signal"), int) else None
        code = end.get("exit_code") if isinstance(end.get("exit_code"), int) else None
        w = task.worker
        oom_after = w.cgroup.oom_kills() if w is not None else None
        oom = task.oom_before is not None and oom_after is not None and oom_after > task.oom_before
        mem_cell = next((c for c in task.cells if c.get("error_type") == "MemoryError"), None)
        mem_probe = next((n for n, r in task.probes.items() if r.get("status") == "memory"), None)
        notes = []
        if task.output_total > len(task.output):
            notes.append(f"printed {task.output_total / 1e6:.1f} MB of output; only the last {len(task.output) // 1024} KB were kept")
        if task.patched:
            shown = ", ".join(task.patched[:8]) + (", ..." if len(task.patched) > 8 else "")
            notes.append(f"the notebook replaced {len(task.patched)} library/framework attribute(s) ({shown}); "
                         "they were restored before the hidden tests ran")
        if isinstance(end.get("leftover"), int) and end["leftover"] > 0:
            notes.append(f"stopped {end['leftover']} process(es) the notebook left running")
        if end.get("error"):
            status, message = "sandbox_error", f"the sandbox could not run this submission: {_text(end['error'])}"
        elif task.fatal:
            status, message = "sandbox_error", f"the sandbox could not be set up for this submission: {task.fatal}"
        elif killed == "output_limit":
            status, message = "output_limit", f"the notebook's process sent more than {self.max_result_bytes // (1024 * 1024)} MB of results (while running {where})"
        elif task.done and not killed:
            if mem_cell is not None:
                status, message = "memory", f"ran out of memory (limit {lim.memory_mb} MB) in cell '{mem_cell.get('grade_id')}'"
            elif mem_probe is not None:
                status, message = "memory", f"ran out of memory (limit {lim.memory_mb} MB) while running the hidden test probe '{mem_probe}'"
            else:
                status, message = "ok", ""
        elif killed == "timeout":
            status, message = "timeout", f"stopped after {lim.timeout_s:g} s (wall clock) while running {where}"
        elif killed == "watchdog":
            status, message = "timeout", f"the sandbox stopped answering after {lim.timeout_s:g} s while running {where}; it was restarted"
        elif killed == "worker_died":
            status, message = "crash", f"the grading process died while running {where}"
        elif killed == "cancelled":
            status, message = "sandbox_error", "cancelled"
        elif sig == signal.SIGXCPU:
            status, message = "timeout", f"used more CPU time than allowed while running {where}"
        elif sig == signal.SIGXFSZ:
            status, message = "output_limit", f"wrote a file larger than the limit while running {where}"
        elif sig == signal.SIGKILL and (oom or oom_after is None):
            status, message = "memory", f"the process was killed for using too much memory (limit {lim.memory_mb} MB) while running {where}"
        elif mem_cell is not None or mem_probe is not None:
            status, message = "memory", f"ran out of memory (limit {lim.memory_mb} MB) while running {where}"
        elif sig is not None:
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            status, message = "crash", f"the notebook's process crashed ({name}) while running {where}"
        else:
            status, message = "crash", f"the notebook's process exited early (exit code {code}) while running {where}"
        if notes:
            message = "; ".join(([message] if message else []) + notes)
        return ExecutionResult(
            job_id=task.job.job_id, status=status, message=message, cells=list(task.cells), probes=dict(task.probes),
            output_tail=bytes(task.output).decode("utf-8", "replace"), wall_s=round(_number(end.get("wall_s")), 3),
            cpu_s=round(_number(end.get("cpu_s")), 3), peak_rss_mb=round(_number(end.get("maxrss_kb")) / 1024.0, 1),
            sandbox=self.sandbox,
        )


# ----------------------------------------------------------------------------- validation

_PROBE_STATUSES = ("timeout", "error", "memory")


def _valid_cell(raw: Any, job: Job) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    gid = raw.get("grade_id")
    index = raw.get("index")
    match = next((c for c in job.cells if c.grade_id == gid and c.index == index), None)
    if match is None or type(raw.get("ok")) is not bool:
        return None
    return {
        "index": match.index, "grade_id": match.grade_id, "origin": match.origin, "ok": raw["ok"],
        "error_type": _text(raw.get("error_type"), 200), "error_message": _text(raw.get("error_message"), MAX_TEXT),
        "seconds": _number(raw.get("seconds")),
    }


def _valid_probe_result(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict) or type(raw.get("ok")) is not bool:
        return {"ok": False, "status": "error", "error": {"type": "InvalidResult", "message": "the probe result was malformed"}, "doing": ""}
    if raw["ok"]:
        return {"ok": True, "data": raw.get("data"), "seconds": _number(raw.get("seconds"))}
    error = raw.get("error") if isinstance(raw.get("error"), dict) else {}
    status = raw.get("status") if raw.get("status") in _PROBE_STATUSES else "error"
    return {"ok": False, "status": status,
            "error": {"type": _text(error.get("type"), 200), "message": _text(error.get("message"), MAX_TEXT)},
            "doing": _text(raw.get("doing"), 500)}
