#!/usr/bin/env bash
# External Secrets Operator. Chart version pinned: the manifests in k8s/secrets use
# external-secrets.io/v1, served from chart 0.17 on. Re-running upgrades in place.
set -euo pipefail

helm repo add external-secrets https://charts.external-secrets.io
helm repo update

helm upgrade --install external-secrets \
  external-secrets/external-secrets \
  --version 0.19.2 \
  --namespace external-secrets-system \
  --create-namespace
