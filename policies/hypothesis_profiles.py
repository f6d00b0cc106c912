"""Hypothesis profiles for the generated scenarios (`--hypothesis-profile NAME`): `default` runs
200 per property, `long` 2,000; no deadline (scenarios run SQL). Registered on import: the
isolation scenarios import this, and the plugin does when `--hypothesis-profile` is given, so
a static run never loads Hypothesis."""

from hypothesis import HealthCheck, settings

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("default", max_examples=200, **_COMMON)
settings.register_profile("long", max_examples=2000, **_COMMON)
