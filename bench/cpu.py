"""CPU accounting from /proc: who used the cores during a measured window.

Two reasons: a figure is only a limit if something was saturated (a server at 100% of a
core is; one at 60% waited on something), and on a shared machine other people's
processes steal cores, which the report must show rather than hide. Linux only; elsewhere
every probe answers None and the report prints "-".
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CpuMeter", "CpuUsage", "Probe", "base_probes", "cpu_seconds", "postgres_pids"]

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

#: Name -> CPU seconds used so far by that party (None when it cannot be read).
Probe = Callable[[], float | None]


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU of one process, all its threads included."""
    if pid is None:
        return None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def processes_cpu_seconds(pids: Callable[[], list[int]]) -> Probe:
    """A probe summing several processes, re-listed at every sample (backends come and go)."""

    def probe() -> float | None:
        values = [v for pid in pids() if (v := cpu_seconds(pid)) is not None]
        return sum(values) if values else None

    return probe


def postgres_pids(data_dir: Path | None) -> Callable[[], list[int]]:
    """The postmaster of *this* cluster and its children (backends, checkpointer, ...):
    other PostgreSQL servers on the machine are not ours to count."""

    def pids() -> list[int]:
        if data_dir is None:
            return []
        try:
            postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return []
        found = [postmaster]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                if ppid == postmaster:
                    found.append(int(entry.name))
        return found

    return pids


def base_probes(broker_pid: int | None, postgres_data_dir: Path | None) -> dict[str, Probe]:
    """The parties present in every phase: this process, the broker, PostgreSQL."""
    me = os.getpid()
    return {
        "bench process": lambda: cpu_seconds(me),
        "kafka broker": lambda: cpu_seconds(broker_pid),
        "postgres": processes_cpu_seconds(postgres_pids(postgres_data_dir)),
    }


def _machine_busy_seconds() -> float | None:
    """CPU time all cores spent running processes (or stolen by the hypervisor), since boot.

    Interrupt and softirq time is left out: much of it is our own loopback traffic, which
    must not be blamed on "other processes".
    """
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    user, nice, system, _idle, _iowait, _irq, _softirq, steal = (int(v) for v in first[1:9])
    return (user + nice + system + steal) / _TICKS


@dataclass
class CpuUsage:
    """Percent of one core per party; ``other`` is everyone else on the machine."""

    percent: dict[str, float | None] = field(default_factory=dict)
    other: float | None = None


class CpuMeter:
    """Sample ``probes`` and the whole machine at ``start`` and ``stop``."""

    def __init__(self, probes: dict[str, Probe]) -> None:
        self.probes = probes
        self._before: dict[str, float | None] = {}
        self._machine: float | None = None
        self._started = 0.0

    @property
    def running(self) -> bool:
        return self._started > 0

    def start(self, now: float) -> None:
        self._before = {name: probe() for name, probe in self.probes.items()}
        self._machine = _machine_busy_seconds()
        self._started = now

    def stop(self, now: float) -> CpuUsage:
        elapsed = now - self._started
        if not self.running or elapsed <= 0:
            return CpuUsage()
        used: dict[str, float | None] = {}
        for name, probe in self.probes.items():
            before, after = self._before.get(name), probe()
            used[name] = None if before is None or after is None else after - before
        machine_after = _machine_busy_seconds()
        other = None
        if self._machine is not None and machine_after is not None:
            ours = sum(v for v in used.values() if v is not None)
            other = max(0.0, 100.0 * (machine_after - self._machine - ours) / elapsed)
        return CpuUsage(
            {n: None if v is None else 100.0 * v / elapsed for n, v in used.items()}, other
        )
