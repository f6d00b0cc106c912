#!/usr/bin/env bash
# Fluent Bit log shipping to CloudWatch Logs and S3. Chart version pinned (0.48.10
# ships Fluent Bit 3.2, which reads the classic-format config in the values).
set -euo pipefail

helm repo add fluent https://fluent.github.io/helm-charts
helm repo update

helm upgrade --install fluent-bit fluent/fluent-bit \
  --version 0.48.10 \
  --namespace logging \
  --create-namespace \
  --values k8s/logging/fluent-bit-values.yaml
