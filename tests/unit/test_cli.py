"""The console script's pytest arguments: the suite's own configuration, no assertion
rewriting, and no plugin the run does not use (Hypothesis and testinfra on a static-only run)."""

from policies.cli import arguments


def _has(args, *seq):
    return any(args[i : i + len(seq)] == list(seq) for i in range(len(args)))


def test_a_static_run_rewrites_nothing_and_leaves_hypothesis_out():
    args = arguments(["-m", "static", "--infra", "x"])
    assert "--assert=plain" in args and _has(args, "-p", "no:hypothesispytest")
    assert _has(arguments(["-mstatic"]), "-p", "no:hypothesispytest")


def test_runs_that_may_need_hypothesis_keep_it():
    for given in (
        [],
        ["-m", "live"],
        ["-m", "static or live"],
        ["-m", "static", "--hypothesis-profile", "long"],
    ):
        assert not _has(arguments(given), "-p", "no:hypothesispytest"), given


def test_the_users_own_choices_win():
    assert "--assert=plain" not in arguments(["--assert", "rewrite"])
    assert "--assert=plain" not in arguments(["--assert=rewrite"])


def test_plugins_the_run_does_not_use_are_not_loaded():
    static = arguments(["-m", "static"])
    for name in ("anyio", "unraisableexception", "xdist.looponfail", "pytest11.testinfra"):
        assert _has(static, "-p", f"no:{name}"), name
    assert not _has(arguments(["-m", "live"]), "-p", "no:pytest11.testinfra")
    assert not _has(arguments(["-m", "static", "--hosts=local://"]), "-p", "no:pytest11.testinfra")
    assert not _has(arguments(["-f"]), "-p", "no:xdist.looponfail")
