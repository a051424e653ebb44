"""A warm grading worker: runs inside the sandbox, forks one child per submission.

Started by :class:`autograder.execution.pool.WorkerPool` (inside bubblewrap, or
as a plain process in the fallback). The worker imports torch, the framework,
the labs' probes and the modules the labs' provided cells import, ONCE; then,
for every job, it forks a child that runs the student's program and the probes.
A fork costs milliseconds where a fresh interpreter costs seconds, and nothing a
child does (monkeypatching torch, builtins, numpy, ...) reaches the next child,
because each child starts from the worker's untouched memory.

The worker never sees student data. The pool sends it, per job, a small header
(an opaque token and the lab's name) and three fresh pipe ends over a Unix
socket (SCM_RIGHTS): the job body to read, the result stream and the output
stream to write. The child reads the job from the first and writes JSON lines
(one per cell and per probe, as each completes) and its printed output straight
to the pool. So the worker's memory, which every later child inherits, never
holds another student's code, results or prints.

Per job the worker: creates a private scratch directory, forks the child,
enforces the wall-clock limit, reaps it (exit status, rusage), kills every
process the submission left behind (``kill(-1)`` inside its PID namespace, or
a subreaper sweep in the fallback), deletes the scratch files and reports the
facts (never a verdict) to the pool.

The child (see :func:`_child_main`) starts a new session, drops to a per-worker
unprivileged uid when the worker is root, applies rlimits and a seccomp filter,
and only then runs student code.
"""
from __future__ import annotations

import ctypes
import errno
import json
import os
import random
import resource
import select
import shutil
import signal
import socket
import sys
import time
from typing import Any

MAX_CONTROL_MESSAGE = 1 << 20
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
PR_CAPBSET_DROP = 24
CAP_LAST_CAP = 63
RESULT_FD_BASE = 700  # the child keeps its result pipe at a high, randomised fd number
SHARED_TMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm")  # swept for the sandbox uid's files in the fallback
WORKER_DIR = ".worker"  # the worker's own temp/cache folder under its scratch root (0700, kept across jobs)

_LIBC: Any = None


def _libc() -> Any:
    global _LIBC
    if _LIBC is None:
        _LIBC = ctypes.CDLL(None, use_errno=True)
    return _LIBC


def _prctl(option: int, arg: int) -> int:
    try:
        return int(_libc().prctl(option, arg, 0, 0, 0))
    except Exception:  # noqa: BLE001 - not Linux
        return -1


def _status_kb(field: str, pid: str = "self") -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _pids() -> list[int]:
    try:
        return [int(n) for n in os.listdir("/proc") if n.isdigit()]
    except OSError:
        return []


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, session id) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read()
    except OSError:
        return None
    rest = raw[raw.rfind(b")") + 2:].split()
    try:
        return rest[0].decode(), int(rest[1]), int(rest[3])
    except (IndexError, ValueError):
        return None


def _uid_of(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def _warm_up() -> list[str]:
    """Pay once, in the worker, for torch's lazy first-use costs that every child would
    otherwise pay again (measured: ~0.85 s of CPU per child without it; the first
    optimizer step or meta-device operator alone imports ~800 torch._dynamo modules).
    One tiny operation of each kind the probes and typical answers use: forward ops,
    autograd (backward and autograd.grad), an optimizer step, gradient clipping, a loss,
    embeddings, the built-in recurrent layers and the meta device.

    Everything runs on the calling thread (one intra-op thread; on a CPU-only build the
    autograd engine starts no device threads), so forking afterwards stays safe: the
    worker reports its thread count in its ready message (tests/test_sandbox.py checks
    it is 1). The global RNG
    state is put back, so the children start from exactly the state they would have had
    without the warm-up. Returns the steps that failed (a warm-up only: never fatal)."""
    failed: list[str] = []
    try:
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
    except Exception:  # noqa: BLE001 - reported by setup() already
        return ["import torch"]
    torch.set_num_threads(1)
    rng = torch.random.get_rng_state()

    def forward() -> None:
        with torch.no_grad():
            lin = nn.Linear(3, 2)
            torch.tanh(lin(torch.ones(2, 3)) @ torch.ones(2, 2))
            F.linear(torch.ones(2, 3), torch.ones(4, 3), torch.zeros(4)).sigmoid().softmax(-1)
            torch.cat([torch.randn(2, 3), torch.rand(2, 3)]).mean()

    def autograd() -> None:
        x = torch.randn(4, 3, requires_grad=True)
        torch.tanh(x @ torch.ones(3, 2)).sum().backward()
        torch.autograd.grad(torch.sigmoid(x).pow(2).sum(), x)

    def training() -> None:
        model = nn.Linear(3, 2)
        for opt in (torch.optim.SGD(model.parameters(), lr=0.1), torch.optim.Adam(model.parameters(), lr=0.1)):
            opt.zero_grad()
            F.cross_entropy(model(torch.randn(4, 3)), torch.tensor([0, 1, 0, 1])).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()

    def layers() -> None:
        emb = nn.Embedding(5, 3)
        emb(torch.tensor([[1, 2, 3]])).sum().backward()
        F.one_hot(torch.tensor([1, 2]), 4)
        x = torch.randn(1, 3, 3)
        for cls in (nn.RNN, nn.LSTM, nn.GRU):
            cls(3, 4, batch_first=True)(x)[0].sum().backward()

    def meta() -> None:
        with torch.no_grad():
            lin = nn.Linear(3, 2, device="meta")
            torch.tanh(lin(torch.empty(2, 3, device="meta")))
            torch.zeros(2, 3, device="meta") @ torch.empty(3, 4, device="meta")

    for step in (forward, autograd, training, layers, meta):
        try:
            step()
        except Exception:  # noqa: BLE001 - a warm-up only
            failed.append(step.__name__)
    torch.random.set_rng_state(rng)
    torch.set_grad_enabled(True)
    return failed


def _private_dirs(root: str, owner: int | None = None) -> dict[str, str]:
    """Temporary and cache directories under ``root``, as environment variables.

    Python's ``tempfile`` caches its directory on first use and torch derives its
    compile caches from it (``<tmp>/torchinductor_<user>``) and creates them while
    importing ``torch._dynamo``/``torch._inductor``. Unless every such location points
    into a directory the process owns, a child that runs under the sandbox uid gets
    ``PermissionError`` on the worker's (or host's) ``/tmp``, and the half-finished
    import then fails every later import in that child with "Artifact of type=precompile
    already registered in mega-cache artifact factory" (the registry outlives the
    failed module). It also keeps compile caches off the host's shared ``/tmp``."""
    cache = os.path.join(root, ".cache")
    dirs = {
        "TMPDIR": root, "XDG_CACHE_HOME": cache, "TORCHINDUCTOR_CACHE_DIR": os.path.join(cache, "torchinductor"),
        "TRITON_CACHE_DIR": os.path.join(cache, "triton"), "TORCH_HOME": os.path.join(cache, "torch"),
        "TORCH_COMPILE_DEBUG_DIR": os.path.join(cache, "compile-debug"),
    }
    for path in dict.fromkeys(dirs.values()):
        os.makedirs(path, 0o700, exist_ok=True)
        if owner is not None:  # made before the child drops to the sandbox uid
            os.chown(path, owner, owner)
    if owner is not None:
        os.chown(cache, owner, owner)
    return dirs


def _use_private_dirs(root: str, dirs: dict[str, str]) -> None:
    """Point what was already computed from the old locations at ``root``."""
    import tempfile

    tempfile.tempdir = root
    config = sys.modules.get("torch._dynamo.config")
    if config is not None:
        try:
            config.debug_dir_root = os.path.join(dirs["TORCH_COMPILE_DEBUG_DIR"], "torch_compile_debug")
        except Exception:  # noqa: BLE001 - a debug-only setting
            pass


# What the probes (and the framework code around them) rely on. The worker snapshots
# these namespaces once; each child puts back whatever the student's cells replaced or
# deleted there before the probes run, so a patched torch.randn, torch.allclose,
# builtins.isinstance or probe fixture cannot shape the probes' data. (Functions the
# student defined still run during the probes and could patch again: see
# docs/security.md, residual risks.) New names the student added are left alone.
GUARDED_MODULES = (
    "builtins", "math", "random", "json", "json.encoder", "time", "signal", "os", "numpy", "numpy.random",
    "numpy.testing", "torch", "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.nn.utils",
    "torch.nn.utils.clip_grad", "torch.testing", "torch.random", "torch.linalg", "torch.autograd",
    "autograder.scoring.probe", "autograder.execution.run_cells",
)
GUARDED_CLASSES = (("torch", "Tensor"), ("torch.nn", "Module"), ("torch.nn", "Linear"), ("torch.nn", "Parameter"))
_MISSING = object()


def _snapshot(extra_modules: list[Any], probe_sets: list[Any]) -> dict[str, Any]:
    modules = {}
    for name in GUARDED_MODULES:
        module = sys.modules.get(name)
        if module is not None:
            modules[name] = (module, dict(module.__dict__))
    for module in extra_modules:
        modules[module.__name__] = (module, dict(module.__dict__))
    classes = {}
    for modname, attr in GUARDED_CLASSES:
        cls = getattr(sys.modules.get(modname), attr, None)
        if isinstance(cls, type):
            classes[f"{modname}.{attr}"] = (cls, dict(cls.__dict__))
    probes = [(ps, dict(ps.probes)) for ps in probe_sets]
    return {"modules": modules, "classes": classes, "probes": probes}


def _restore(snap: dict[str, Any]) -> list[str]:
    """Undo replacements and deletions in the guarded namespaces; returns what was changed."""
    changed: list[str] = []
    for name, (module, saved) in snap["modules"].items():
        current = module.__dict__
        for key, value in saved.items():
            if current.get(key, _MISSING) is not value:
                current[key] = value
                changed.append(f"{name}.{key}")
    for name, (cls, saved) in snap["classes"].items():
        for key, value in saved.items():
            if cls.__dict__.get(key, _MISSING) is not value:
                try:
                    setattr(cls, key, value)
                    changed.append(f"{name}.{key}")
                except (AttributeError, TypeError):
                    pass
        for key in [k for k in cls.__dict__ if k not in saved]:
            if any(key in base.__dict__ for base in cls.__mro__[1:]):  # an override of an inherited method
                try:
                    delattr(cls, key)
                    changed.append(f"{name}.{key}")
                except (AttributeError, TypeError):
                    pass
    for ps, saved in snap["probes"]:
        if ps.probes != saved or any(ps.probes[k] is not v for k, v in saved.items()):
            ps.probes.clear()
            ps.probes.update(saved)
            changed.append(f"probes of {ps.lab}")
    return changed


class Worker:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.cfg: dict[str, Any] = {}
        self.probes: dict[str, Any] = {}
        self.labs: dict[str, dict[str, Any]] = {}
        self.pidns = False
        self.uid: int | None = None
        self.scratch_root = "/tmp"
        self.dev_shm: str | None = None
        self.seq = 0

    # -- protocol ------------------------------------------------------------------
    def send(self, msg: dict[str, Any]) -> None:
        self.sock.sendall(json.dumps(msg).encode())

    def recv(self) -> tuple[dict[str, Any] | None, list[int]]:
        try:
            data, fds, _flags, _addr = socket.recv_fds(self.sock, MAX_CONTROL_MESSAGE, 8)
        except (ConnectionError, OSError):
            return None, []
        if not data:
            for fd in fds:
                os.close(fd)
            return None, []
        try:
            msg = json.loads(data)
        except ValueError:
            msg = {}
        return (msg if isinstance(msg, dict) else {}), list(fds)

    # -- start -------------------------------------------------------------------------
    def setup(self) -> None:
        msg, fds = self.recv()
        for fd in fds:
            os.close(fd)
        if not msg or "config" not in msg:
            raise SystemExit(3)
        cfg = self.cfg = msg["config"]
        self.pidns = bool(cfg.get("pidns")) and os.getpid() <= 2
        self.uid = cfg.get("uid")
        self.scratch_root = cfg.get("scratch_root") or "/tmp"
        self.dev_shm = cfg.get("clean_dir")
        if not self.pidns:
            _prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans of a submission come back to us
        if cfg.get("pdeathsig"):
            _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        os.environ.setdefault("MPLBACKEND", "Agg")
        os.environ.setdefault("MPLCONFIGDIR", os.path.join(self.scratch_root, ".mpl-worker"))
        # before torch is imported: its caches and tempfile's directory go to the worker's
        # own folder (kept across jobs), never to the host's /tmp
        worker_dir = os.path.join(self.scratch_root, WORKER_DIR)
        worker_dirs = _private_dirs(worker_dir)
        os.environ.update(worker_dirs)
        _use_private_dirs(worker_dir, worker_dirs)
        errors: dict[str, str] = {}
        import contextlib
        import importlib
        import io

        try:
            import torch

            torch.set_num_threads(1)
        except Exception as exc:  # noqa: BLE001
            errors["*"] = f"import torch failed: {exc!r}"
        from autograder.execution import run_cells, seccomp  # noqa: F401 - preloaded for the children
        from autograder.execution.program import CellRun, Program  # noqa: F401
        from autograder.scoring.probe import load_probes, run_probes  # noqa: F401

        run_cells.translate("%matplotlib inline")  # warm IPython's transformer (any cell with "!=" uses it)
        for name, lab in cfg.get("labs", {}).items():
            for module in lab.get("imports", []):
                with contextlib.suppress(BaseException), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                    importlib.import_module(module)
            try:
                from pathlib import Path

                self.probes[name] = load_probes(Path(lab["probes"]))
                self.labs[name] = lab
            except BaseException as exc:  # noqa: BLE001 - reported to the pool
                errors[name] = f"{type(exc).__name__}: {exc}"
        warm_up_failed = _warm_up() if cfg.get("warm_up", True) else []
        probe_modules = [sys.modules[m] for m in list(sys.modules) if m.startswith("_autograder_probes_")]
        self.snapshot = _snapshot(probe_modules, list(self.probes.values()))
        import gc

        gc.collect()
        gc.freeze()  # keep the preloaded objects out of the children's collections (fewer copied pages)
        self.send({"ready": {
            "labs": {name: list(p.probes) for name, p in self.probes.items()},
            "errors": errors,
            "pid": os.getpid(),
            "pidns": self.pidns,
            "vm_kb": _status_kb("VmSize"),
            "rss_kb": _status_kb("VmRSS"),
            "threads": len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else 1,
            "warm_up_failed": warm_up_failed,
        }})

    # -- the job loop ------------------------------------------------------------------
    def serve(self) -> None:
        while True:
            msg, fds = self.recv()
            if msg is None:
                return
            job = msg.get("job")
            if not isinstance(job, dict) or len(fds) != 3:
                for fd in fds:
                    os.close(fd)
                continue
            self.run_job(job, fds)

    def _scratch(self) -> str:
        self.seq += 1
        path = os.path.join(self.scratch_root, f"job-{self.seq}-{random.randrange(1 << 30):x}")
        os.mkdir(path, 0o700)
        if self.uid is not None:
            os.chown(path, self.uid, self.uid)
        return path

    def run_job(self, job: dict[str, Any], fds: list[int]) -> None:
        body_r, result_w, output_w = fds
        token = job.get("token")
        lab = str(job.get("lab"))
        limits = self.cfg.get("limits", {})
        timeout = float(limits.get("timeout_s", 60))
        if lab not in self.probes:
            for fd in fds:
                os.close(fd)
            self.send({"end": {"token": token, "error": f"lab {lab!r} is not loaded in this worker"}})
            return
        try:
            scratch = self._scratch()
        except OSError as exc:
            for fd in fds:
                os.close(fd)
            self.send({"end": {"token": token, "error": f"could not create a scratch directory: {exc}"}})
            return
        sys.stdout.flush()
        sys.stderr.flush()
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            code = 70
            try:
                self.sock.close()
                _child_main(self, lab, body_r, result_w, output_w, scratch)
            except BaseException:  # noqa: BLE001
                pass
            finally:
                os._exit(code)
        for fd in fds:
            os.close(fd)
        self.send({"started": {"token": token}})
        killed = ""
        try:
            pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            pidfd = -1
        deadline = start + timeout
        status = rusage = None
        while status is None:
            wait = max(0.0, deadline - time.monotonic())
            watch = [self.sock] + ([pidfd] if pidfd >= 0 else [])
            try:
                ready, _, _ = select.select(watch, [], [], min(wait, 0.05 if pidfd < 0 else wait))
            except InterruptedError:
                ready = []
            if self.sock in ready:
                msg, extra = self.recv()
                for fd in extra:
                    os.close(fd)
                if msg is None:  # the pool is gone: nothing to report to
                    self.kill_all(pid)
                    os._exit(0)
                if msg.get("kill") == token and not killed:
                    killed = str(msg.get("reason") or "killed")
                    self.kill_all(pid)
            got, st, ru = os.wait4(pid, os.WNOHANG)
            if got:
                status, rusage = st, ru
                break
            if time.monotonic() >= deadline and not killed:
                killed = "timeout"
                self.kill_all(pid)
            if killed and not ready:
                got, st, ru = os.wait4(pid, 0)  # SIGKILL was sent: this returns at once
                status, rusage = st, ru
        wall = time.monotonic() - start
        if pidfd >= 0:
            os.close(pidfd)
        leftover = self.kill_all(None)
        cleanup_error = self.cleanup(scratch)
        end: dict[str, Any] = {
            "token": token, "killed": killed, "wall_s": round(wall, 4),
            "cpu_s": round(rusage.ru_utime + rusage.ru_stime, 4) if rusage else 0.0,
            "maxrss_kb": int(rusage.ru_maxrss) if rusage else 0,
            "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "leftover": leftover, "remaining": self.count_others(),
        }
        if cleanup_error:
            end["cleanup_error"] = cleanup_error
        self.send({"end": end})

    # -- cleaning up after a submission ---------------------------------------------------
    def _others(self) -> list[int]:
        """Processes that are not the worker, its namespace's init or its ancestors."""
        me = os.getpid()
        if self.pidns:
            return [p for p in _pids() if p not in (1, me) and (_stat(p) or ("Z",))[0] != "Z"]
        # fallback: our descendants (we are a subreaper, so orphans stay in our subtree),
        # plus anything running under this worker's private uid
        children: dict[int, list[int]] = {}
        found: set[int] = set()
        for p in _pids():
            st = _stat(p)
            if st is None:
                continue
            children.setdefault(st[1], []).append(p)
            if self.uid is not None and p != me and _uid_of(p) == self.uid and st[0] != "Z":
                found.add(p)
        todo = list(children.get(me, []))
        while todo:
            p = todo.pop()
            if p in found:
                continue
            found.add(p)
            todo.extend(children.get(p, []))
        return [p for p in found if (_stat(p) or ("Z",))[0] != "Z"]

    def count_others(self) -> int:
        self._reap()
        return len(self._others())

    def _reap(self) -> None:
        while True:
            try:
                got, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if not got:
                return

    def kill_all(self, child: int | None) -> int:
        """SIGKILL the submission's child and everything it started; returns how many
        processes other than the child had to be killed."""
        if child is not None:
            for target in (lambda: os.killpg(child, signal.SIGKILL), lambda: os.kill(child, signal.SIGKILL)):
                try:
                    target()
                except OSError:
                    pass
        killed: set[int] = set()
        for _ in range(400):
            if self.pidns:
                try:
                    os.kill(-1, signal.SIGKILL)  # everything in our PID namespace but us and init
                except OSError:
                    pass
            others = self._others()
            if child is not None:
                others = [p for p in others if p != child]
            if not others:
                break
            for p in others:
                killed.add(p)
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            if child is None:  # never reap the job's child here: run_job collects its status
                self._reap()
            time.sleep(0.005)
        if child is None:
            self._reap()
        return len(killed)

    def cleanup(self, scratch: str) -> str:
        problems = []
        shutil.rmtree(scratch, ignore_errors=True)
        if os.path.exists(scratch):
            problems.append(f"could not remove {scratch}")
        for root in filter(None, [self.dev_shm] + ([self.scratch_root] if self.cfg.get("private_scratch_root") else [])):
            try:
                entries = os.listdir(root)
            except OSError:
                continue
            keep = set(self.cfg.get("keep_in_scratch_root") or []) if root == self.scratch_root else set()
            for name in entries:
                if name.startswith(".mpl-worker") or name == WORKER_DIR or name in keep:
                    continue
                path = os.path.join(root, name)
                try:
                    if os.path.isdir(path) and not os.path.islink(path):
                        shutil.rmtree(path, ignore_errors=True)
                    else:
                        os.unlink(path)
                except OSError as exc:
                    problems.append(f"could not remove {path}: {exc.strerror}")
        if not self.pidns and self.uid is not None:
            self._sweep_shared_dirs(problems)
        return "; ".join(problems)

    def _sweep_shared_dirs(self, problems: list[str]) -> None:
        """Fallback only (no private /tmp): delete what the sandbox uid left in the host's
        shared temp folders. The uid is this worker's alone, so everything it owns there
        was made by a submission. Without a uid drop the fallback cannot tell a
        submission's files from anyone else's (docs/security.md)."""
        for root in SHARED_TMP_DIRS:
            try:
                entries = os.listdir(root)
            except OSError:
                continue
            for name in entries:
                path = os.path.join(root, name)
                try:
                    if os.lstat(path).st_uid != self.uid:
                        continue
                    if os.path.isdir(path) and not os.path.islink(path):
                        shutil.rmtree(path, ignore_errors=True)
                    else:
                        os.unlink(path)
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    problems.append(f"could not remove {path}: {exc.strerror}")


# ------------------------------------------------------------------------------- the child

def _plain_encoder() -> Any:
    """A JSON encoder for plain data that does not look anything up in builtins or the
    json module when called (the C encoder, configured once)."""
    from json.encoder import c_make_encoder, encode_basestring_ascii

    def refuse(obj: Any) -> Any:
        raise TypeError("not plain data")

    if c_make_encoder is None:  # pragma: no cover - CPython always has it
        encoder = json.JSONEncoder(allow_nan=True, default=refuse)
        return encoder.encode
    make = c_make_encoder(None, refuse, encode_basestring_ascii, None, ":", ",", False, False, True)
    join = "".join
    return lambda obj: join(make(obj, 0))


def _move_high(fd: int) -> int:
    import fcntl

    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, RESULT_FD_BASE + random.randrange(200))
    os.close(fd)
    return new


def _read_all(fd: int, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise ValueError("job description too large")
        chunks.append(chunk)
    return b"".join(chunks)


def _drop_privileges(uid: int) -> None:
    for cap in range(CAP_LAST_CAP + 1):  # empty the bounding set (needs CAP_SETPCAP; harmless without)
        if _prctl(PR_CAPBSET_DROP, cap) != 0 and ctypes.get_errno() == errno.EINVAL:
            break
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise PermissionError("could not drop privileges")


def _child_main(worker: Worker, lab: str, body_r: int, result_w: int, output_w: int, scratch: str) -> None:  # pragma: no cover
    cfg = worker.cfg
    limits = cfg.get("limits", {})
    os.setsid()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGCHLD, signal.SIGALRM):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    result_fd = _move_high(result_w)
    encode = _plain_encoder()  # built now: student code may patch builtins and json later
    write, view_of, errors = os.write, memoryview, (TypeError, ValueError, RecursionError, OverflowError)
    nonce = os.urandom(16).hex()  # every event after "begin" carries it (see docs/security.md)

    def emit(event: dict[str, Any]) -> None:
        if "begin" not in event and "fatal" not in event:
            event = {"n": nonce, **event}
        try:
            data = ("\n" + encode(event) + "\n").encode()
        except errors:
            if "probe" not in event:
                return
            data = ("\n" + encode({"n": nonce, "probe": event["probe"], "result": {"ok": False, "status": "error", "error": {"type": "NotPlainData", "message": "the probe result could not be encoded as plain data"}}}) + "\n").encode()
        view = view_of(data)
        while view:
            view = view[write(result_fd, view):]

    try:
        raw = _read_all(body_r, int(cfg.get("max_job_bytes", 64 << 20)))
        os.close(body_r)
        job = json.loads(raw)
        del raw
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(output_w, 1)
        os.dup2(output_w, 2)
        for fd in (devnull, output_w):
            if fd > 2:
                os.close(fd)
        os.closerange(3, result_fd)
        os.closerange(result_fd + 1, 65536)

        lab_cfg = worker.labs[lab]
        home = scratch
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "USER": "student",
            "LOGNAME": "student", "LANG": os.environ.get("LANG", "C.UTF-8"), "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": os.path.join(home, ".matplotlib"), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1", str(lab_cfg.get("fast_env") or "LAB_FAST"): "1",
        }
        os.environ.clear()
        os.environ.update(env)
        os.chdir(scratch)
        # temp and cache folders inside the scratch dir, owned by the sandbox uid (see _private_dirs)
        dirs = _private_dirs(home, owner=worker.uid)
        os.environ.update(dirs)
        _use_private_dirs(home, dirs)
        try:
            with open("/proc/self/oom_score_adj", "w") as fh:  # the memory cgroup's OOM killer picks us first
                fh.write("1000")
        except OSError:
            pass
        try:
            import torch

            torch.set_num_threads(1)
        except Exception:  # noqa: BLE001
            pass

        # limits (RLIMIT_AS last: it counts what the worker already maps, torch included)
        timeout = float(limits.get("timeout_s", 60))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        cpu = int(timeout * 2 + 5)
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        fsize = int(cfg.get("max_file_bytes", 256 << 20))
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
        nproc = cfg.get("nproc")
        if nproc:
            resource.setrlimit(resource.RLIMIT_NPROC, (int(nproc), int(nproc)))
        if worker.uid is not None:
            _drop_privileges(int(worker.uid))
        elif cfg.get("nproc_relative"):
            count = sum(1 for p in _pids() if _uid_of(p) == os.getuid())
            n = count + int(cfg["nproc_relative"])
            resource.setrlimit(resource.RLIMIT_NPROC, (n, n))
        headroom = int(cfg.get("as_headroom_bytes", 0))
        if headroom:
            cap = _status_kb("VmSize") * 1024 + headroom
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        seccomp_note = ""
        if cfg.get("seccomp", True):
            from autograder.execution import seccomp

            seccomp_note = seccomp.install()
            if seccomp_note and cfg.get("seccomp") == "required":
                raise RuntimeError(seccomp_note)
    except BaseException as exc:  # noqa: BLE001 - before any student code: the grader's problem
        try:
            emit({"fatal": f"{type(exc).__name__}: {exc}"})
        finally:
            os._exit(71)

    from autograder.execution.program import CellRun, Program
    from autograder.execution.run_cells import new_namespace, run_program
    from autograder.scoring.probe import run_probes

    probes = worker.probes[lab]
    cells = [CellRun(**c) for c in job.get("cells", [])]
    del job
    emit({"begin": {"seccomp": not seccomp_note, "uid": os.getuid(), "nonce": nonce}})
    stdout, stderr = sys.stdout, sys.stderr

    def flush() -> None:
        for stream in (stdout, stderr):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001 - the student may have closed or replaced it
                pass

    def on_cell(outcome: Any) -> None:
        flush()
        emit({"cell": outcome.as_dict()})

    ns = new_namespace()
    run_program(Program(cells=cells), ns, on_cell=on_cell)
    flush()
    patched = _restore(worker.snapshot)
    if patched:
        emit({"patched": patched[:50]})
    # the student's functions run inside the probes and may patch again: the guarded
    # namespaces are restored before EVERY probe, so one probe's patch cannot shape the
    # inputs or fixtures of the next (within one probe it can: docs/security.md)
    for i, name in enumerate(list(probes.probes)):
        if i:
            new = [n for n in _restore(worker.snapshot) if n not in patched]
            if new:
                patched += new
                emit({"patched": patched[:50]})
        run_probes(probes, ns, names=[name], emit=lambda name, result: emit({"probe": name, "result": result}))
    flush()
    emit({"done": True})
    os._exit(0)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    fd = int(argv[0])
    # keep the protocol off stdout: stray prints of imported libraries go to the log
    os.dup2(2, 1)
    sock = socket.socket(fileno=fd)
    worker = Worker(sock)
    try:
        worker.setup()
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001
        try:
            worker.send({"fatal": f"{type(exc).__name__}: {exc}"})
        finally:
            os._exit(4)
    worker.serve()
    worker.kill_all(None)
    os._exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
