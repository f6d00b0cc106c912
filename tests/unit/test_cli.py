"""The console script's pytest arguments: the suite's own configuration, no assertion
rewriting, and no Hypothesis plugin when the run selects the static tier only."""

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
