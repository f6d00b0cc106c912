"""The pipeline family's session fixture: workflows, zizmor's audit of them, Helm installs."""

from __future__ import annotations

from typing import Any

import pytest

from policies.sources import Sources


@pytest.fixture(scope="session")
def pipeline_static(sources: Sources, yaml_files: Any) -> Any:
    """Workflows (and zizmor's audit of them) and Helm install scripts under --infra."""
    from policies.pipeline.static import read_static

    return read_static(sources, yaml_files[0])
