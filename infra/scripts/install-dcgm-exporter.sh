#!/usr/bin/env bash
# NVIDIA dcgm-exporter: GPU metrics (DCGM_FI_DEV_*) for the GPU nodes.
# Chart version pinned; values in k8s/monitoring/dcgm-exporter-values.yaml.
set -euo pipefail

helm repo add gpu-helm-charts https://nvidia.github.io/dcgm-exporter/helm-charts
helm repo update

helm upgrade --install dcgm-exporter gpu-helm-charts/dcgm-exporter \
  --version 4.1.1 \
  --namespace monitoring \
  --create-namespace \
  --values k8s/monitoring/dcgm-exporter-values.yaml
