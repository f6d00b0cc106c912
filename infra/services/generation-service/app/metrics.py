from prometheus_client import Counter, Histogram, Gauge, generate_latest
from fastapi import APIRouter

router = APIRouter()

# Metrics
generation_requests_total = Counter(
    'generation_requests_total',
    'Total generation requests',
    ['tier', 'status']
)

generation_duration_seconds = Histogram(
    'generation_duration_seconds',
    'Generation duration in seconds',
    ['tier', 'model'],
    buckets=[10, 30, 60, 120, 300, 600]
)

queue_length_gauge = Gauge(
    'queue_length',
    'Current queue length',
    ['tier']
)

credits_consumed_total = Counter(
    'credits_consumed_total',
    'Total credits consumed',
    ['tier', 'user_id']
)

@router.get("/metrics")
def metrics():
    return generate_latest()
