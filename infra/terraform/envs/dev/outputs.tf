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
