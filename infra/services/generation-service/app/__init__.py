"""generation-service: image generation API of pingvas (metrics and health endpoints)."""
