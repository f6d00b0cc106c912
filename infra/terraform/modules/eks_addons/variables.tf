variable "cluster_name" {
  description = "Name of the EKS cluster the add-ons are installed on (the ClusterName dimension of the ContainerInsights metrics)."
  type        = string
  default     = "dev-pingvas-eks"
}

variable "cloudwatch_observability_version" {
  description = "Version of the amazon-cloudwatch-observability add-on; null installs the default version for the cluster's Kubernetes version."
  type        = string
  default     = null
}

variable "cloudwatch_agent_role_arn" {
  description = "IRSA role for the add-on's CloudWatch agent (with CloudWatchAgentServerPolicy); null uses the node role, which must then carry that policy."
  type        = string
  default     = null
}
