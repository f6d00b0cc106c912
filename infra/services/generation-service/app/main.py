"""ASGI entry point: ``uvicorn app.main:app`` from infra/services/generation-service."""

from fastapi import FastAPI

from app.metrics import init_label_values
from app.metrics import router as metrics_router

app = FastAPI(title="generation-service")
app.include_router(metrics_router)

init_label_values()


@app.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness/readiness probe: the process is up and serving."""
    return {"status": "ok"}
