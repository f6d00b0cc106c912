output "web_acl_arn" {
  description = "ARN of the Web ACL."
  value       = aws_wafv2_web_acl.main.arn
}

output "web_acl_name" {
  description = "Name of the Web ACL."
  value       = aws_wafv2_web_acl.main.name
}

output "log_stream_arn" {
  description = "ARN of the Kinesis Data Firehose stream that receives the WAF logs."
  value       = aws_kinesis_firehose_delivery_stream.waf_logs.arn
}
