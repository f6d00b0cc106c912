output "web_acl_arn" {
  description = "ARN of the WAF Web ACL."
  value       = module.waf.web_acl_arn
}

output "alb_arn" {
  description = "ARN of the application load balancer."
  value       = module.alb.arn
}

output "waf_log_stream_arn" {
  description = "ARN of the Firehose stream receiving the WAF logs."
  value       = module.waf.log_stream_arn
}

output "db_credentials_secret_arn" {
  description = "ARN of the database credentials secret."
  value       = module.secrets.db_credentials_secret_arn
}

output "db_credentials_secret_name" {
  description = "Name of the database credentials secret."
  value       = module.secrets.db_credentials_secret_name
}

output "jwt_secret_arn" {
  description = "ARN of the JWT signing key secret."
  value       = module.secrets.jwt_secret_arn
}

output "lemon_squeezy_secret_arn" {
  description = "ARN of the Lemon Squeezy API key secret."
  value       = module.secrets.lemon_squeezy_secret_arn
}

output "secrets_kms_key_arn" {
  description = "ARN of the KMS key encrypting the application secrets."
  value       = module.secrets.kms_key_arn
}

output "alarm_topic_arn" {
  description = "ARN of the SNS topic the CloudWatch alarms notify."
  value       = module.alarms.topic_arn
}
