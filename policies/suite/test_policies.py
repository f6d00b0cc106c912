"""Every policy of the catalog: on the tree under --infra (static) and on the --target (live),
one test per policy and tier, one per end-to-end probe, and one per item of the repository for
a check judged per item (each WAF case)."""

from dataclasses import replace

import pytest

from policies.catalog import load_catalog
from policies.registry import cases
from policies.session import settings
from policies.suite.runner import run_case

CASES = cases(load_catalog())
TIERS = {"test_static": "static", "test_live": "live"}


def pytest_generate_tests(metafunc):
    tier = TIERS[metafunc.function.__name__]
    params = []
    for case in CASES:
        if case.tier != tier:
            continue
        each = case.check.each if case.check is not None and tier == "static" else None
        keys = each.keys(settings(metafunc.config)) if each is not None else []
        params += [
            pytest.param(item, id=item.id, marks=getattr(pytest.mark, tier))
            for item in ([replace(case, param=k) for k in keys] or [case])
        ]
    metafunc.parametrize("case", params)


def test_static(case, request, gate):
    run_case(case, request, gate)


def test_live(case, request, gate):
    run_case(case, request, gate)
