"""`pingvas-policy`: pytest with the packaged suite as its test path. Every pytest and plugin
option passes through; `--infra` defaults to the working directory. The suite's own pytest
configuration is used (`-c`), so the scanned repository's pytest settings never apply to its
scan, and pytest's cache lives in the user's cache directory, not in the scanned repository."""

from __future__ import annotations

import gc
import os
import sys
from importlib import resources
from pathlib import Path

import pytest


def cache_home() -> Path:
    """The suite's directory in the user's cache (XDG_CACHE_HOME, else ~/.cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "pingvas-policy"


def arguments(args: list[str]) -> list[str]:
    """pytest's arguments for a `pingvas-policy` command line."""
    suite = Path(str(resources.files("policies.suite")))
    given = {a.split("=", 1)[0] for a in args}
    head = [str(suite), "-c", str(suite / "pytest.ini"), "--rootdir", os.getcwd()]
    if "--infra" not in given:
        head += ["--infra", "."]
    if not any(a.startswith("cache_dir=") or a.endswith("no:cacheprovider") for a in args):
        head += ["-o", f"cache_dir={cache_home() / 'pytest'}"]
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        head += ["-p", "policies.plugin"]
    if "--assert" not in given:  # the suite's checks report findings, not assertion diffs:
        head += ["--assert=plain"]  # no module is rewritten (and re-rewritten without .pyc)
    for name in _unused_plugins(args):
        head += ["-p", f"no:{name}"]
    return [*head, *args]


def _unused_plugins(args: list[str]) -> list[str]:
    """Plugins a run of the suite does not use, not loaded (~0.2 s of start-up): anyio's,
    looponfail's without -f; pytest's unraisable-exception check (a full gc.collect at the
    end); on a static-only run Hypothesis' (its summary hook imports hypothesis, ~1 s) and,
    without --hosts, testinfra's."""
    unused = ["anyio", "unraisableexception"]
    if not {"-f", "--looponfail"} & set(args):
        unused.append("xdist.looponfail")
    if _static_only(args):
        if not any(a.startswith("--hypothesis") for a in args):
            unused.append("hypothesispytest")
        if not any(a.split("=", 1)[0] == "--hosts" for a in args):
            unused.append("pytest11.testinfra")
    return unused


def _static_only(args: list[str]) -> bool:
    """Whether the run selects the static tier only (`-m static`), which uses no Hypothesis."""
    marks = [b for a, b in zip(args, args[1:], strict=False) if a == "-m"]
    marks += [a[2:] for a in args if a.startswith("-m") and len(a) > 2 and a[2] != "-"]
    return bool(marks) and all(m.strip() == "static" for m in marks)


def main(argv: list[str] | None = None) -> int:
    return int(pytest.main(arguments(sys.argv[1:] if argv is None else list(argv))))


# The cycle collector's first generation: the readers build many small dicts and lists that
# are not cycles; collecting every 700 allocations (Python's default) costs 7-10% of a large
# tree's run, for ~3% less peak memory (mypy raises it the same way).
GC_FIRST_GENERATION = 100_000


def run() -> None:
    """The console script (and `python -m policies.cli`): main() with a larger first GC
    generation, then exit at once once the output is flushed. pytest has finished by then
    (fixtures torn down, services stopped, reports written and closed); tearing the
    interpreter down would only free the run's objects, thousands of files' models on a large
    tree (~0.1 s per 1,000 files)."""
    gc.set_threshold(GC_FIRST_GENERATION, 50, 100)
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a closed pipe: nothing more can be shown
        code = code or 1
    os._exit(code)


if __name__ == "__main__":
    run()
