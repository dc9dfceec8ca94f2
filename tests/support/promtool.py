"""`promtool check metrics` (Debian's `prometheus` package) on an exposition, when promtool is there."""

from __future__ import annotations

import shutil
import subprocess


def promtool_problems(exposition: str) -> list[str] | None:
    """promtool's complaints, one per line ([] when clean); None when promtool is not installed."""
    promtool = shutil.which("promtool")
    if promtool is None:
        return None
    done = subprocess.run([promtool, "check", "metrics"], input=exposition.encode(), capture_output=True, timeout=60)
    lines = (done.stdout + done.stderr).decode().splitlines()
    return [line for line in lines if line.strip()] if done.returncode or lines else []
