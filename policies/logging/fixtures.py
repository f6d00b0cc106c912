"""The logging family's session fixture: Fluent Bit configuration from Helm values."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def logging_static(yaml_files: Any) -> Any:
    """Fluent Bit configuration from Helm values under --infra."""
    from policies.logging.static import read_static

    return read_static(yaml_files[0])
