"""Secrets family: Secrets Manager secrets, their rotation and keys, and the ExternalSecrets that
read them."""
