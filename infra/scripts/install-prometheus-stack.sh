#!/usr/bin/env bash
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
  --namespace monitoring \
  --values k8s/monitoring/prometheus-values.yaml
