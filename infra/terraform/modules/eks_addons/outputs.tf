output "cloudwatch_observability_addon_arn" {
  description = "ARN of the amazon-cloudwatch-observability add-on."
  value       = aws_eks_addon.cloudwatch_observability.arn
}
