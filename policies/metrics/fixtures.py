"""The metrics family's session fixture: what the tree declares (the live side is the
Prometheus target, policies.targets.prometheus)."""

from __future__ import annotations

from typing import Any

import pytest

from policies.sources import Sources


@pytest.fixture(scope="session")
def metrics_static(sources: Sources, yaml_files: Any) -> Any:
    """Metrics as declared: app code, scrape jobs, ServiceMonitors, rules, dashboards."""
    from policies.metrics.static import read_static

    return read_static(sources, yaml_files[0])
