"""Kubernetes family: manifests valid against their schemas; live probes of a cluster."""
