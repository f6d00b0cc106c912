"""One measured command: its wall time, the peak resident memory of it and its waited-for
descendants, and its output; and the container-CI setup (both tools installed as users install
them, `pip install`, not editable, and run with PYTHONDONTWRITEBYTECODE=1)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INSTALLED = ROOT / ".venv-bench"  # this checkout installed with `pip install .`


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_mb: float  # the largest resident set of the command or one of its descendants
    stdout: str


def measured(cmd: list[str], env: dict[str, str] | None = None) -> Measured:
    with tempfile.TemporaryFile("w+") as out:
        started = time.monotonic()
        process = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, text=True
        )
        _, _, usage = os.wait4(process.pid, 0)
        process.returncode = 0  # reaped by wait4
        seconds = time.monotonic() - started
        out.seek(0)
        return Measured(seconds, usage.ru_maxrss / 1024, out.read())


def install_ours() -> Path:
    """`pip install .` of this checkout into .venv-bench (reinstalled each benchmark run, so
    it is the code measured); its console script."""
    if not (INSTALLED / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(INSTALLED)], check=True)
    pip = [str(INSTALLED / "bin" / "pip"), "install", "-q", "--no-deps", "--force-reinstall"]
    subprocess.run([str(INSTALLED / "bin" / "pip"), "install", "-q", str(ROOT)], check=True)
    subprocess.run([*pip, str(ROOT)], check=True)
    return INSTALLED / "bin" / "pingvas-policy"


def container_env() -> dict[str, str]:
    return {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
