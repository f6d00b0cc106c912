"""Prometheus metrics of the generation service, served on GET /metrics.

The metric objects live on prometheus_client's default registry. Label values must come
from small, closed sets (tier, status, model): a per-user label such as ``user_id`` would
create one series per customer and grow without bound, so per-user credit accounting
belongs in the billing tables, not in Prometheus.
"""

from fastapi import APIRouter, Response
from prometheus_client import Counter, Gauge, Histogram, generate_latest

# The classic text exposition format, which every Prometheus 2.x parses. Not
# prometheus_client.CONTENT_TYPE_LATEST: from client 0.22 on that constant announces
# ``version=1.0.0`` although generate_latest() writes the 0.0.4 format.
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

TIERS = ("free", "pro", "enterprise")
STATUSES = ("started", "success", "failed")
MODELS = ("sdxl", "flux-schnell")

router = APIRouter()

generation_requests_total = Counter(
    "generation_requests_total",
    "Generation requests by subscription tier and outcome (started, success, failed).",
    ["tier", "status"],
)

generation_duration_seconds = Histogram(
    "generation_duration_seconds",
    "Wall-clock time of one image generation on a GPU worker, in seconds.",
    ["tier", "model"],
    buckets=[1, 2, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600],
)

queue_length_gauge = Gauge(
    "queue_length",
    "Generation jobs waiting for a GPU worker, by subscription tier.",
    ["tier"],
)

credits_consumed_total = Counter(
    "credits_consumed_total",
    "Credits charged for generations, by subscription tier.",
    ["tier"],
)


def init_label_values() -> None:
    """Create every known series at zero so dashboards and alerts see them before traffic."""
    for tier in TIERS:
        for status in STATUSES:
            generation_requests_total.labels(tier=tier, status=status)
        for model in MODELS:
            generation_duration_seconds.labels(tier=tier, model=model)
        queue_length_gauge.labels(tier=tier)
        credits_consumed_total.labels(tier=tier)


@router.get("/metrics")
def metrics() -> Response:
    """Prometheus scrape endpoint: the text exposition format, not JSON."""
    return Response(content=generate_latest(), media_type=METRICS_CONTENT_TYPE)
