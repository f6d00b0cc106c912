"""What the run itself must be able to trust: the waivers in force are valid and unexpired;
scrape jobs the embedded Prometheus has no stand-in for, and their settings it is not given,
are named."""

import datetime as dt

import pytest

from policies.catalog import load_catalog


@pytest.mark.static
def test_waivers_valid(waivers, waivers_path):
    """Every waiver names a catalog policy and has not expired (an expired waiver fails the run)."""
    today = dt.date.today()
    catalog = load_catalog()
    problems = [
        f"{waivers_path}: waiver {w.policy_id} {w.resource} (owner {w.owner}) "
        + (
            "names no catalog policy"
            if w.policy_id not in catalog
            else f"expired on {w.expires}: renew it with a reason or fix the finding"
        )
        for w in waivers.get()
        if w.policy_id not in catalog or w.days_left(today) < 0
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.live
def test_scrape_jobs_without_local_stand_in(metrics_static, prometheus_target):
    """Named once per run: the jobs not scraped and the settings the embedded Prometheus was
    not given."""
    if not metrics_static.jobs:
        pytest.skip("not applicable: no scrape job")
    target = prometheus_target.get()
    reasons = []
    if target.without:
        reasons.append(
            f"scrape jobs {', '.join(target.without)} have no local stand-in (their exporters "
            "need the real services): verify them with --prometheus-url"
        )
    if target.dropped:
        jobs = "; ".join(f"{job}: {', '.join(keys)}" for job, keys in target.dropped.items())
        reasons.append(f"scrape settings not given to the embedded Prometheus ({jobs})")
    if reasons:
        pytest.skip("; ".join(reasons))
