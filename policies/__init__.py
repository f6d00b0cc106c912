"""pingvas-policy: one check body per policy, run on the static and the live model."""
