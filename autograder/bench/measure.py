"""Measure a command's whole process tree: wall clock, CPU seconds, peak memory.

CPU. ``resource.getrusage(RUSAGE_CHILDREN)`` is not enough here: a process
only adds a descendant's CPU to its own children's total when it *waits* for
it, and bubblewrap's ``--unshare-pid`` sandbox does not pass its namespace's
CPU back up (measured: a busy loop inside ``bwrap --unshare-pid`` adds nothing
to the caller's RUSAGE_CHILDREN). So the command runs in a fresh cgroup: the
cgroup-v1 ``cpuacct`` controller (``cpuacct.usage``), or cgroup v2
(``cpu.stat`` ``usage_usec``) where the hierarchy is writable. Every process
the command starts, sandboxed or not, is charged to it. Where no cgroup can be
created (an unprivileged container), the figure falls back to the larger of
RUSAGE_CHILDREN and the sum of the CPU of every process seen by the sampler
below (a lower bound), and ``cpu_method`` says so.

Memory. Every ``interval_s`` the sampler lists the processes of the tree (the
cgroup's members, or the command's descendants by parent pid) and sums their
PSS (proportional set size, ``/proc/PID/smaps_rollup``): pages shared between
processes, such as the torch a warm worker shares with every child it forks,
are counted once in all, not once per process as a sum of RSS would. The peak
of that sum is ``peak_pss_mb``; the peak of the plain RSS sum is reported too
(``peak_rss_sum_mb``, an upper bound that counts shared pages again for each
process). Sampling misses peaks shorter than the interval.
"""
from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from autograder.execution.pool import Cgroup

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass
class Measurement:
    wall_s: float
    cpu_s: float
    cpu_method: str
    peak_pss_mb: float
    peak_rss_sum_mb: float
    peak_processes: int
    returncode: int
    samples: int
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- cgroups


class _CpuCgroup:
    """A fresh cgroup that counts CPU: v1 cpuacct or v2 cpu; ``None`` path when neither works."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self.kind = ""
        name = f"autograder-bench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        for base, kind in self._candidates():
            target = base / name
            try:
                target.mkdir()
                (target / "cgroup.procs").stat()
                if kind == "v1":
                    int((target / "cpuacct.usage").read_text().strip() or 0)
                else:
                    (target / "cpu.stat").read_text()
            except (OSError, ValueError):
                try:
                    target.rmdir()
                except OSError:
                    pass
                continue
            self.path, self.kind = target, kind
            return

    @staticmethod
    def _candidates() -> list[tuple[Path, str]]:
        out: list[tuple[Path, str]] = []
        try:
            lines = Path("/proc/self/cgroup").read_text().splitlines()
        except OSError:
            return out
        for line in lines:
            parts = line.split(":", 2)
            if len(parts) != 3:
                continue
            if "cpuacct" in parts[1].split(","):
                for root in (Path("/sys/fs/cgroup/cpuacct"), Path("/sys/fs/cgroup/cpu,cpuacct")):
                    if root.is_dir():
                        out.append((root / parts[2].lstrip("/"), "v1"))
                        out.append((root, "v1"))
                        break
            if parts[1] == "" and parts[0] == "0":
                root = Path("/sys/fs/cgroup")
                if (root / "cgroup.controllers").exists():
                    out.append((root / parts[2].lstrip("/"), "v2"))
        return out

    @property
    def procs_file(self) -> str | None:
        return str(self.path / "cgroup.procs") if self.path else None

    def cpu_s(self) -> float:
        if self.path is None:
            return 0.0
        try:
            if self.kind == "v1":
                return int((self.path / "cpuacct.usage").read_text().strip()) / 1e9
            for line in (self.path / "cpu.stat").read_text().splitlines():
                if line.startswith("usage_usec "):
                    return int(line.split()[1]) / 1e6
        except (OSError, ValueError):
            pass
        return 0.0

    def pids(self) -> list[int]:
        if self.path is None:
            return []
        try:
            return [int(x) for x in (self.path / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def remove(self) -> None:
        if self.path is None:
            return
        for _ in range(50):
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.1)  # the last members are still being reaped


# --------------------------------------------------------------------------- /proc


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds so far) of a process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = raw[raw.rfind(b")") + 2:].split()
    try:
        return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (IndexError, ValueError):
        return None


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st is not None:
                children.setdefault(st[0], []).append(int(name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def _memory_kb(pid: int) -> tuple[int, int]:
    """(PSS, RSS) in kB; (0, 0) for a process that is gone or unreadable."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0, 0
    pss = rss = 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            pss = int(line.split()[1])
        elif line.startswith("Rss:"):
            rss = int(line.split()[1])
    return pss, rss


def _name(pid: int) -> str:
    """A short label for a process: its command line, trimmed."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return str(pid)
    return raw[:100] or str(pid)


def loadavg() -> tuple[float, float, float]:
    try:
        a, b, c = Path("/proc/loadavg").read_text().split()[:3]
        return float(a), float(b), float(c)
    except (OSError, ValueError):
        return 0.0, 0.0, 0.0


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        cores = os.cpu_count() or 1
    import platform

    return {"cpu": model, "cores": cores, "memory_gb": round(mem_gb, 1), "kernel": platform.release(),
            "python": platform.python_version()}


# --------------------------------------------------------------------------- running


def run_measured(cmd: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: str | Path | None = None,
                 interval_s: float = 0.25, stdout: Any = None, stderr: Any = None) -> Measurement:
    """Run ``cmd`` to completion and measure its whole process tree (see the module doc)."""
    cg = _CpuCgroup()
    # exact peak of the tree (cgroup v1 memory.max_usage_in_bytes, page cache included); the
    # pool's own cgroup helper, memory controller only
    mem = Cgroup(f"autograder-bench-mem-{os.getpid()}-{uuid.uuid4().hex[:8]}", controllers=("memory",))
    mem_procs = mem.procs_files()
    argv = list(cmd)
    run_env = dict(env if env is not None else os.environ)
    if cg.procs_file:  # join the cgroup before exec, so nothing the command starts escapes it
        run_env["AG_BENCH_CGROUP_PROCS"] = cg.procs_file
        run_env["AG_BENCH_MEMCG_PROCS"] = mem_procs[0] if mem_procs else "/dev/null"
        argv = ["/bin/sh", "-c", 'echo $$ > "$AG_BENCH_CGROUP_PROCS" || exit 111; echo $$ > "$AG_BENCH_MEMCG_PROCS"; '
                'exec "$@"', "sh", *argv]
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = loadavg()
    peak = {"pss": 0, "rss": 0, "n": 0, "samples": 0}
    seen_cpu: dict[int, float] = {}
    breakdown: list[tuple[str, float]] = []
    stop = threading.Event()
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=run_env, cwd=cwd, stdout=stdout, stderr=stderr)

    def sample() -> None:
        while not stop.is_set():
            pids = cg.pids() if cg.path else _descendants(proc.pid)
            pss = rss = 0
            per: list[tuple[int, int]] = []
            for pid in pids:
                p, r = _memory_kb(pid)
                pss += p
                rss += r
                per.append((pid, p))
                if cg.path is None:
                    st = _stat(pid)
                    if st is not None:
                        seen_cpu[pid] = max(seen_cpu.get(pid, 0.0), st[1])
            if pss > peak["pss"]:
                breakdown[:] = [(_name(pid), kb / 1024.0) for pid, kb in sorted(per, key=lambda x: -x[1]) if kb]
            peak["pss"] = max(peak["pss"], pss)
            peak["rss"] = max(peak["rss"], rss)
            peak["n"] = max(peak["n"], len(pids))
            peak["samples"] += 1
            stop.wait(interval_s)

    sampler = threading.Thread(target=sample, name="bench-sampler", daemon=True)
    sampler.start()
    try:
        returncode = proc.wait()
    finally:
        wall = time.perf_counter() - start
        stop.set()
        sampler.join()
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    rusage_cpu = (after_children.ru_utime - before_children.ru_utime) + (after_children.ru_stime - before_children.ru_stime)
    if cg.path is not None:
        deadline = time.monotonic() + 10
        while cg.pids() and time.monotonic() < deadline:  # stragglers being killed: count them too
            time.sleep(0.1)
        cpu, method = cg.cpu_s(), f"cgroup {cg.kind} ({'cpuacct.usage' if cg.kind == 'v1' else 'cpu.stat'})"
        cg.remove()
    else:
        cpu = max(rusage_cpu, sum(seen_cpu.values()))
        method = "lower bound: max(RUSAGE_CHILDREN, sum of sampled /proc CPU) (no writable cgroup)"
    memcg_peak = mem.memory_peak_bytes() / 2**20 if cg.path is not None else 0.0
    mem.remove()
    return Measurement(wall_s=wall, cpu_s=cpu, cpu_method=method, peak_pss_mb=peak["pss"] / 1024.0,
                       peak_rss_sum_mb=peak["rss"] / 1024.0, peak_processes=peak["n"], returncode=returncode,
                       samples=peak["samples"], load_before=load_before, load_after=loadavg(),
                       extra={"rusage_children_cpu_s": rusage_cpu, "memcg_peak_mb": round(memcg_peak, 1),
                              "pss_at_peak_mb": [[name, round(mb, 1)] for name, mb in breakdown[:12]]})
