output "arn" {
  description = "ARN of the load balancer (the WAF association target)."
  value       = aws_lb.main.arn
}

output "arn_suffix" {
  description = "ARN suffix of the load balancer (the LoadBalancer dimension of AWS/ApplicationELB metrics)."
  value       = aws_lb.main.arn_suffix
}

output "dns_name" {
  description = "DNS name of the load balancer."
  value       = aws_lb.main.dns_name
}

output "security_group_id" {
  description = "ID of the load balancer's security group."
  value       = aws_security_group.alb.id
}
