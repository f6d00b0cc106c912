output "db_credentials_secret_arn" {
  description = "ARN of the database credentials secret."
  value       = aws_secretsmanager_secret.db_credentials.arn
}

output "db_credentials_secret_name" {
  description = "Name of the database credentials secret (the ExternalSecret's remoteRef.key)."
  value       = aws_secretsmanager_secret.db_credentials.name
}

output "jwt_secret_arn" {
  description = "ARN of the JWT signing key secret."
  value       = aws_secretsmanager_secret.jwt_secret.arn
}

output "jwt_secret_name" {
  description = "Name of the JWT signing key secret."
  value       = aws_secretsmanager_secret.jwt_secret.name
}

output "lemon_squeezy_secret_arn" {
  description = "ARN of the Lemon Squeezy API key secret."
  value       = aws_secretsmanager_secret.lemon_squeezy.arn
}

output "lemon_squeezy_secret_name" {
  description = "Name of the Lemon Squeezy API key secret."
  value       = aws_secretsmanager_secret.lemon_squeezy.name
}

output "kms_key_arn" {
  description = "ARN of the customer-managed KMS key encrypting the secrets."
  value       = aws_kms_key.secrets.arn
}
