variable "region" {
  description = "AWS region of the environment."
  type        = string
  default     = "us-east-1"
}

variable "environment" {
  description = "Deployment environment name; prefixes every resource name."
  type        = string
  default     = "dev"
}

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic."
  type        = string
  default     = "platform-oncall@pingvas.example"
}

variable "db_cluster_id" {
  description = "Identifier of the environment's Aurora PostgreSQL cluster (the alarms' DBClusterIdentifier)."
  type        = string
  default     = "dev-pingvas-aurora"
}

variable "eks_cluster_name" {
  description = "Name of the environment's EKS cluster (the alarms' ClusterName)."
  type        = string
  default     = "dev-pingvas-eks"
}
