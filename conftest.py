"""Root conftest, intentionally empty: the suite's plugin is the `pingvas` pytest11 entry point
(policies.plugin), so `--infra PATH` is known before pytest picks its rootdir."""
