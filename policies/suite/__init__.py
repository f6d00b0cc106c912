"""The packaged main job: one test per policy and tier (and per probe), generated from the
registry, run by `pingvas-policy` (pytest with this directory as its test path) or by
`pytest policies/suite` in a checkout."""
