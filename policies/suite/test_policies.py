"""Every policy of the catalog: on the tree under --infra (static) and on the --target (live),
one test per policy and tier, and one per end-to-end probe."""

import pytest

from policies.catalog import load_catalog
from policies.registry import cases
from policies.suite.runner import run_case

CASES = cases(load_catalog())


def _tier(tier):
    return [
        pytest.param(case, id=case.id, marks=getattr(pytest.mark, tier))
        for case in CASES
        if case.tier == tier
    ]


@pytest.mark.parametrize("case", _tier("static"))
def test_static(case, request, gate):
    run_case(case, request, gate)


@pytest.mark.parametrize("case", _tier("live"))
def test_live(case, request, gate):
    run_case(case, request, gate)
