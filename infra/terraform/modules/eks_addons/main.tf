# EKS add-ons the platform's monitoring depends on.
#
# amazon-cloudwatch-observability installs the CloudWatch agent and Fluent Bit on every
# node; it is what produces the ContainerInsights metrics (node_cpu_utilization, ...)
# that the alarms module reads. Without it the eks_node_cpu_high alarm has no data and
# stays INSUFFICIENT_DATA.
#
# This module is applied by the EKS root, together with the cluster; it is not part of
# envs/dev and not of the local stack (moto has no EKS add-ons).
#
# The agent needs CloudWatchAgentServerPolicy: either on the node role, or on an IRSA
# role passed as service_account_role_arn (the add-on's service account is
# amazon-cloudwatch/cloudwatch-agent).

terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100"
    }
  }
}

resource "aws_eks_addon" "cloudwatch_observability" {
  cluster_name             = var.cluster_name
  addon_name               = "amazon-cloudwatch-observability"
  addon_version            = var.cloudwatch_observability_version
  service_account_role_arn = var.cloudwatch_agent_role_arn

  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "PRESERVE"

  tags = {
    Name = "${var.cluster_name}-cloudwatch-observability"
  }
}
