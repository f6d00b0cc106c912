"""Where live probes go: the AWS endpoint (the embedded moto stack with the tree's Terraform
applied, LocalStack, or real AWS), PostgreSQL, Prometheus and Kubernetes. Each module holds
the target and its session fixture; fixtures hand out `Lazy` resources, so a target that cannot
be had fails (or skips) the tests that use it, in their call phase, in one line."""
