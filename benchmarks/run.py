"""Benchmarks (not a test: CI asserts no time). One run on this machine measures the static tier
on infra/ and on synthetic trees against python-hcl2 alone (the parse floor) and, when
installed by this script into its own venv, Checkov; writes reports/benchmark.md.

    .venv/bin/python benchmarks/run.py [--sizes 1000,4000] [--checkov]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import hcl2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import ROOT, generate  # noqa: E402

CHECKOV_VENV = ROOT / ".venv-checkov"


def timed(cmd: list[str], cwd: Path = ROOT) -> float:
    started = time.monotonic()
    subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    return time.monotonic() - started


def static_tier(infra: Path, reports: Path, *extra: str) -> float:
    return timed(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "tests/verify",
            "-m",
            "static",
            "--infra",
            str(infra),
            "--reports",
            str(reports),
            *extra,
        ]
    )


def parse_floor(tree: Path) -> float:
    started = time.monotonic()
    for path in tree.rglob("*.tf"):
        hcl2.loads(path.read_text(), with_meta=True)
    return time.monotonic() - started


def checkov(tree: Path) -> float | None:
    binary = CHECKOV_VENV / "bin" / "checkov"
    if not binary.exists():
        return None
    return timed([str(binary), "-d", str(tree), "--quiet", "--compact", "--skip-download"])


def install_checkov() -> None:
    if not (CHECKOV_VENV / "bin" / "checkov").exists():
        subprocess.run([sys.executable, "-m", "venv", str(CHECKOV_VENV)], check=True)
        subprocess.run([str(CHECKOV_VENV / "bin" / "pip"), "install", "-q", "checkov"], check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,4000")
    parser.add_argument("--checkov", action="store_true", help="install and run Checkov too")
    args = parser.parse_args()
    if args.checkov:
        install_checkov()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        reports = Path(work) / "reports"
        ours = static_tier(ROOT / "infra", reports)
        rows.append(("infra/ (static tier)", ours, checkov(ROOT / "infra"), None))
        for size in (int(s) for s in args.sizes.split(",")):
            tree = Path(work) / f"tree{size}"
            count = generate(tree, size)
            floor = parse_floor(tree)
            ours = static_tier(tree, reports)
            rows.append((f"{count} .tf files, cold", ours, checkov(tree), floor))
    lines = [
        "# Benchmark",
        "",
        f"Python {sys.version.split()[0]}, one run, this machine.",
        "",
        "| case | ours (s) | Checkov (s) | ours / Checkov | parse floor (s) | ours / floor |",
        "|---|---|---|---|---|---|",
    ]
    for case, ours, other, floor in rows:
        ratio = f"{ours / other:.2f}" if other else "n/a"
        floor_ratio = f"{ours / floor:.2f}" if floor else "n/a"
        lines.append(
            f"| {case} | {ours:.1f} | {other and round(other, 1) or 'n/a'} | {ratio} |"
            f" {floor and round(floor, 1) or 'n/a'} | {floor_ratio} |"
        )
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / "benchmark.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
