"""What the numbers depend on: CPUs, Python, Redis, library versions, load at start."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("trio", "trio-websocket", "wsproto", "coredis", "orjson")


def environment(redis_version: str) -> dict[str, Any]:
    """What the numbers depend on: CPUs, Python, Redis, library versions, load at start."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count() or 0
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "?"
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "cpu_model": _cpu_model(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "redis_version": redis_version,
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "commit": _commit(),
        "packages": versions,
    }


def described(env: Mapping[str, Any]) -> list[str]:
    """A report header's lines about ``env`` (an :func:`environment`): the machine, then the
    software measured."""
    packages = ", ".join(f"{k} {v}" for k, v in env.get("packages", {}).items())
    return [
        f"- Machine: {env.get('cpu_count')} CPUs ({env.get('cpus_usable')} usable, "
        f"{env.get('cpu_model')}), {env.get('platform')}; load average at start "
        f"{env.get('load_average_at_start')}.",
        f"- {env.get('python')}, Redis {env.get('redis_version')}; {packages}; "
        f"commit {env.get('commit')}; {env.get('date')}.",
    ]


def _commit() -> str:
    """The checked-out commit, with ``+dirty`` when the work tree differs from it."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
            check=True, timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return f"{head}+dirty" if dirty else head


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"
