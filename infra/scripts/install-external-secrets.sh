#!/usr/bin/env bash
# Helm install (chart version pinned: the manifests in k8s/secrets use external-secrets.io/v1)
helm repo add external-secrets https://charts.external-secrets.io
helm repo update

helm install external-secrets \
  external-secrets/external-secrets \
  --version 0.19.2 \
  -n external-secrets-system \
  --create-namespace
