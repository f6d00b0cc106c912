"""The metrics family end to end on a real Prometheus: without the GPU exporter the GPU panel
fails statically and live; the guide's /metrics cannot be scraped at all."""

import shutil
import time

import pytest

from policies.targets.prometheus import serve_app, start
from policies.targets.stack import StackUnavailable
from tests.helpers import FIXTURES, ROOT, failures_on_copy, suite

pytestmark = pytest.mark.live
VALUES = "k8s/monitoring/prometheus-values.yaml"


def test_removing_the_gpu_exporter_fails_statically_and_live(tmp_path):
    text = (ROOT / "infra" / VALUES).read_text()
    start_at = text.index("      # NVIDIA dcgm-exporter")
    dcgm_job = text[start_at : text.index("\ngrafana:", start_at)]
    done, failures = failures_on_copy(tmp_path, VALUES, dcgm_job, "", *suite("metrics"))
    assert done.returncode == 1, done.stdout[-2000:]
    static = failures.pop("test_static[MET-001]")
    assert (
        "panel 'GPU utilisation'" in static
        and "DCGM_FI_DEV_GPU_UTIL comes from dcgm-exporter" in static
    )
    live = failures.pop("test_live[MET-021]")
    assert "panel 'GPU utilisation'" in live
    assert "metric DCGM_FI_DEV_GPU_UTIL does not exist on this Prometheus" in live
    assert set(failures) == {"test_live[MET-022]"}, failures


def test_prometheus_cannot_scrape_the_guides_metrics_endpoint(tmp_path):
    """The guide's router returns generate_latest()'s bytes from a FastAPI route."""
    package = tmp_path / "guide" / "app"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    shutil.copy(
        FIXTURES / "seed" / "services" / "generation-service" / "app" / "metrics.py",
        package / "metrics.py",
    )
    (package / "main.py").write_text(
        "from fastapi import FastAPI\n\nfrom app.metrics import router\n\n"
        "app = FastAPI()\napp.include_router(router)\n"
    )
    try:
        address, stop_app = serve_app(tmp_path / "guide", "app.main:app")
    except StackUnavailable as exc:
        pytest.skip(str(exc))
    try:
        prometheus = start([{"job_name": "guide", "static_configs": [{"targets": [address]}]}])
    except StackUnavailable as exc:
        stop_app()
        pytest.skip(str(exc))
    try:
        deadline, target = time.monotonic() + 20, {}
        while time.monotonic() < deadline:
            targets = prometheus.api("targets")["activeTargets"]
            target = targets[0] if targets else {}
            if target.get("health") in ("up", "down"):
                break
            time.sleep(0.2)
    finally:
        prometheus.stop()
        stop_app()
    assert target.get("health") == "down", target
    assert target.get("lastError"), target
