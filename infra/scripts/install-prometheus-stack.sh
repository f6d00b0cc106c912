#!/usr/bin/env bash
# kube-prometheus-stack (Prometheus, Alertmanager, Grafana). Chart version pinned.
set -euo pipefail

# add the Helm repo
helm repo add prometheus-community https://prometheus-community.github.io/helm-charts
helm repo update

# the provisioned dashboard (grafana.dashboardsConfigMaps in the values)
kubectl create namespace monitoring --dry-run=client -o yaml | kubectl apply -f -
kubectl -n monitoring create configmap grafana-dashboard-generation \
  --from-file=k8s/monitoring/dashboards/generation-dashboard.json \
  --dry-run=client -o yaml | kubectl apply -f -

# install kube-prometheus-stack
helm upgrade --install prometheus prometheus-community/kube-prometheus-stack \
  --version 75.15.1 \
  --namespace monitoring \
  --values k8s/monitoring/prometheus-values.yaml
