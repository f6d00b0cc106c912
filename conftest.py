"""Root conftest: the plugin itself is the `pingvas` pytest11 entry point (policies.plugin),
so `--infra PATH` is known before pytest picks its rootdir. Nothing else belongs here."""
