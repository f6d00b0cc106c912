"""Benchmarks (not a test: CI asserts no time). One run on this machine measures

  (a) the static tier on infra/ against Checkov (`checkov -d infra --quiet --compact
      --skip-download`, installed by `--checkov` into .venv-checkov);
  (b) synthetic trees (N copies of infra's modules): the static tier cold (`--cache-clear`),
      warm (parse cache kept), cold with `-n 2`, cold with the python-hcl2 front end, and
      Checkov, with the peak resident memory of the cold run and of Checkov's;
  (b') container CI: both tools installed as users install them (`pip install`, this checkout
      into .venv-bench) and run with PYTHONDONTWRITEBYTECODE=1, on infra/;
  (c) the live tier cold (`--cache-clear`: terraform applies and the apply is recorded) and
      warm (the next run: the recorded apply replayed), split by service, against the bare
      steps it wraps;

prints the tables and writes them to reports/benchmark.md.

    .venv/bin/python benchmarks/run.py [--sizes 1000,4000] [--checkov] [--no-live]

Subprocesses run without PYTHONDONTWRITEBYTECODE, as on a developer's machine: with it, every
run recompiles and pytest re-rewrites the plugin's modules.
"""

from __future__ import annotations

import argparse
import os
import platform
import pstats
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import container_env, install_ours, measured  # noqa: E402
from synthetic import ROOT, generate  # noqa: E402

CHECKOV_VENV = ROOT / ".venv-checkov"
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
TARGETS = {
    "infra": 0.3,
    "cold": {1000: 0.04, 4000: 0.03},
    "warm": 1 / 40,
    "per_file": 1.10,
    "container": 0.2,
    "memory": 0.5,
    "live": 1.5,
    "warm_live": 0.25,
}


def timed(cmd: list[str]) -> tuple[float, str]:
    started = time.monotonic()
    done = subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, text=True, check=False)
    return time.monotonic() - started, done.stdout


def pytest_args(infra: Path, reports: Path) -> list[str]:
    """The interpreter arguments of a suite run as users run it: the `pingvas-policy` console
    script (policies.cli: the packaged suite, its own pytest configuration)."""
    return ["-m", "policies.cli", "-q", "--infra", str(infra), "--reports", str(reports)]


def pytest_run(infra: Path, reports: Path, *extra: str) -> tuple[float, str]:
    return timed([sys.executable, *pytest_args(infra, reports), *extra])


def static_tier(infra: Path, reports: Path) -> dict[str, float]:
    """Cold (cache cleared, with its peak memory), warm (cache from the cold run), cold on two
    workers, cold with the python-hcl2 front end."""
    cold = measured(
        [sys.executable, *pytest_args(infra, reports), "-m", "static", "--cache-clear"], ENV
    )
    warm, _ = pytest_run(infra, reports, "-m", "static")
    parallel, _ = pytest_run(infra, reports, "-m", "static", "--cache-clear", "-n", "2")
    reference, _ = pytest_run(
        infra, reports, "-m", "static", "--cache-clear", "--hcl-parser", "python-hcl2"
    )
    return {
        "cold": cold.seconds,
        "peak": cold.peak_mb,
        "warm": warm,
        "n2": parallel,
        "python-hcl2": reference,
    }


def checkov(tree: Path, env: dict[str, str] | None = None) -> tuple[float, float] | None:
    """Checkov's wall time and peak memory on a tree."""
    binary = CHECKOV_VENV / "bin" / "checkov"
    if not binary.exists():
        return None
    run = measured(
        [str(binary), "-d", str(tree), "--quiet", "--compact", "--skip-download"], env or ENV
    )
    return run.seconds, run.peak_mb


def container_row(reports: Path) -> list[str]:
    """infra/ with both tools installed as users install them and no bytecode written."""
    ours = install_ours()
    env = container_env()
    args = ["-m", "static", "--infra", str(ROOT / "infra"), "--reports", str(reports)]
    run = measured([str(ours), *args, "-p", "no:cacheprovider", "-q"], env)
    other = checkov(ROOT / "infra", env)
    shown = f"{other[0]:.1f}" if other else "n/a"
    return [
        "",
        "Container CI (`pip install` of both, PYTHONDONTWRITEBYTECODE=1), infra/ static:"
        f" pingvas-policy {run.seconds:.1f} s, Checkov {shown} s:"
        f" {ratio(run.seconds, other[0] if other else None)} x"
        f" (target <= {TARGETS['container']}).",
    ]


def install_checkov() -> None:
    if not (CHECKOV_VENV / "bin" / "checkov").exists():
        subprocess.run([sys.executable, "-m", "venv", str(CHECKOV_VENV)], check=True)
        subprocess.run([str(CHECKOV_VENV / "bin" / "pip"), "install", "-q", "checkov"], check=True)


def live_tier(reports: Path, *extra: str) -> tuple[float, dict[str, float], str]:
    """The live tier as users run it: wall time, each local service's start as the plugin prints
    it, and how the stack's deployment came to be (replayed or applied)."""
    cache = f"cache_dir={ROOT / '.pytest_cache'}"  # one cache whatever rootdir pytest picks
    wall, out = pytest_run(ROOT / "infra", reports, "-m", "live", "-o", cache, *extra)
    lines = out.splitlines()
    line = next((x for x in lines if x.startswith("pingvas local services:")), "")
    steps = {m[0]: float(m[1]) for m in re.findall(r"([a-z][a-z +]*?[a-z]) ([\d.]+) s", line)}
    note = next((x for x in lines if x.startswith("pingvas local stack:")), "")
    return wall, steps, note.removeprefix("pingvas local stack: ")


def bare_services(work: Path) -> dict[str, float]:
    """The same services started by hand, no pytest, no probe: moto + terraform init + apply,
    PostgreSQL initdb + start, Prometheus start."""
    from policies.sources import Sources
    from policies.targets.postgres import start_cluster
    from policies.targets.prometheus import start as start_prometheus
    from policies.targets.stack import local_stack
    from policies.terraform import load_project

    steps: dict[str, float] = {}
    roots = load_project(Sources(ROOT / "infra")).roots
    stack = local_stack(work / "bare-stack", ROOT / "infra", roots)
    steps.update(stack.timings)
    stack.stop()
    cluster = start_cluster()
    steps.update(cluster.timings)
    cluster.stop()
    started = time.monotonic()
    start_prometheus([]).stop()
    steps["prometheus start"] = time.monotonic() - started
    return steps


def cold_profile(tree: Path, reports: Path, work: Path) -> list[tuple[str, float]]:
    """Where a cold run's time goes in the main process: cProfile's own time per top-level
    package, largest first; its waits for the parse workers (which parse on the other CPUs
    meanwhile) are their own line."""
    out = work / "cold.prof"
    profiler = [sys.executable, str(Path(__file__).parent / "profile_main.py"), str(out)]
    args = pytest_args(tree, reports)[2:]  # without `-m policies.cli`
    timed([*profiler, *args, "-m", "static", "--cache-clear"])
    shares: dict[str, float] = {}
    stats = pstats.Stats(str(out)).stats  # type: ignore[attr-defined]
    for (filename, _, function), (_, _, own, _, _) in stats.items():
        waiting = filename == "~" and "_thread.lock" in function
        package = "(waiting for the parse workers)" if waiting else _package(filename)
        shares[package] = shares.get(package, 0.0) + own
    total = sum(shares.values())
    return sorted(((name, own / total) for name, own in shares.items()), key=lambda x: -x[1])


def _package(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/")[1].split("/")[0].removesuffix(".py")
    if filename.startswith(str(ROOT)):
        return Path(filename).relative_to(ROOT).parts[0]
    return "python (stdlib, builtins)"


def live_section(reports: Path, work: Path) -> list[str]:
    """The live tier cold, then warm, and the bare services: the benchmark's live table."""
    cold, cold_steps, cold_note = live_tier(reports, "--cache-clear")
    warm, warm_steps, warm_note = live_tier(reports)
    bare = bare_services(work)
    steps = list(dict.fromkeys([*cold_steps, *warm_steps]))
    lines = [
        "",
        "## Live tier (`pingvas-policy -m live`, embedded local stack)",
        "",
        "Cold: `--cache-clear` (no recording: terraform applies, and the apply is"
        " recorded); warm: the next run, no file under infra/ changed (the recorded"
        " apply is replayed into a fresh moto, every answer compared). PostgreSQL and"
        " Prometheus start beside the stack, so steps overlap and do not add up.",
        "",
        "| step | cold (s) | warm (s) | bare (s) |",
        "|---|---|---|---|",
        *(
            f"| {step} | {seconds(cold_steps.get(step))} | {seconds(warm_steps.get(step))}"
            f" | {seconds(bare.get(step))} |"
            for step in steps
        ),
        f"| **total (wall)** | **{seconds(cold)}** | **{seconds(warm)}** |"
        f" **{seconds(sum(bare.values()))}** |",
        "",
        f"- cold: {cold_note}",
        f"- warm: {warm_note}",
        "",
        f"Warm / cold live tier: {warm / cold:.2f} x (target <= {TARGETS['warm_live']})."
        f" Cold live tier / bare services: {cold / sum(bare.values()):.2f} x"
        f" (target <= {TARGETS['live']}).",
    ]
    return lines


def _previous(report: Path) -> list[str]:
    """The previous run's tables (before/after side by side), its headings one level down."""
    if not report.exists():
        return []
    text = report.read_text().split("\n## The previous run", 1)[0]
    body = text.split("\n", 1)[1] if "\n" in text else ""
    demoted = ("#" + line if line.startswith("#") else line for line in body.split("\n"))
    return ["", "## The previous run", *demoted]


def ratio(ours: float | None, other: float | None) -> str:
    return f"{ours / other:.3f}" if ours and other else "n/a"


def seconds(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,4000")
    parser.add_argument("--checkov", action="store_true", help="install and run Checkov too")
    parser.add_argument("--no-live", action="store_true", help="skip the live tier (~3 min)")
    args = parser.parse_args()
    if args.checkov:
        install_checkov()
    lines = [
        "# Benchmark",
        "",
        f"One run of `benchmarks/run.py`, {time.strftime('%Y-%m-%d')}, Python"
        f" {platform.python_version()}, {os.cpu_count()} CPUs. Targets: cold <= 0.04 x Checkov"
        " at 1,000 files and <= 0.03 x at 4,000; per-file cost at 4,000 within 10% of 1,000;"
        " container CI <= 0.2 x Checkov on infra/; peak memory <= 0.5 x Checkov's; warm live"
        " tier <= 0.25 x cold; live tier <= 1.5 x bare services.",
        "",
        "## Static tier",
        "",
        "| tree | .tf files | cold (s) | warm (s) | cold -n 2 (s) | cold, python-hcl2 (s) |"
        " Checkov (s) | cold / Checkov | warm / Checkov | cold ms per file | peak MB |"
        " Checkov peak MB | memory / Checkov |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    per_file: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        reports = work / "reports"
        trees = [("infra/", ROOT / "infra", None)]
        for size in (int(s) for s in args.sizes.split(",")):
            tree = work / f"tree{size}"
            trees.append((f"synthetic {size}", tree, generate(tree, size)))
        for name, tree, size in trees:
            count = len(list(tree.rglob("*.tf")))
            ours, other = static_tier(tree, reports), checkov(tree)
            took, peak = other if other else (None, None)
            if size is not None:
                per_file[count] = ours["cold"] / count * 1000
            lines.append(
                f"| {name} | {count} | {seconds(ours['cold'])} | {seconds(ours['warm'])} |"
                f" {seconds(ours['n2'])} | {seconds(ours['python-hcl2'])} | {seconds(took)} |"
                f" {ratio(ours['cold'], took)} | {ratio(ours['warm'], took)} |"
                f" {ours['cold'] / count * 1000:.2f} | {ours['peak']:.0f} |"
                f" {f'{peak:.0f}' if peak else 'n/a'} | {ratio(ours['peak'], peak)} |"
            )
            print(lines[-1], flush=True)
        sizes = sorted(per_file)
        if len(sizes) >= 2:
            lines += [
                "",
                f"Per-file cost, {sizes[-1]} vs {sizes[0]} files (cold):"
                f" {per_file[sizes[-1]] / per_file[sizes[0]]:.2f} x"
                f" (target <= {TARGETS['per_file']:.2f}).",
            ]
        lines += container_row(reports)
        profiled = trees[1] if len(trees) > 1 else trees[0]
        shares = cold_profile(profiled[1], reports, work)
        lines += [
            "",
            f"### What limits the cold run ({profiled[0]}, cProfile own time by package)",
            "",
            "| package | share |",
            "|---|---|",
            *(f"| {name} | {share:.0%} |" for name, share in shares[:8]),
        ]
        if not args.no_live:
            lines += live_section(reports, work)
    target = ROOT / "reports" / "benchmark.md"
    lines += _previous(target)
    text = "\n".join(lines) + "\n"
    target.parent.mkdir(exist_ok=True)
    target.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
