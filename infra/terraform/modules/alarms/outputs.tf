output "topic_arn" {
  description = "ARN of the SNS topic every alarm notifies."
  value       = aws_sns_topic.alarms.arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the alarm topic."
  value       = aws_kms_key.alarms.arn
}

output "alarm_names" {
  description = "Names of the CloudWatch alarms, by purpose."
  value = {
    rds_cpu_high         = aws_cloudwatch_metric_alarm.rds_cpu_high.alarm_name
    rds_connections_high = aws_cloudwatch_metric_alarm.rds_connections_high.alarm_name
    rds_free_storage_low = aws_cloudwatch_metric_alarm.rds_free_storage_low.alarm_name
    alb_5xx_rate_high    = aws_cloudwatch_metric_alarm.alb_5xx_rate_high.alarm_name
    waf_blocked_spike    = aws_cloudwatch_metric_alarm.waf_blocked_spike.alarm_name
    eks_node_cpu_high    = aws_cloudwatch_metric_alarm.eks_node_cpu_high.alarm_name
  }
}
