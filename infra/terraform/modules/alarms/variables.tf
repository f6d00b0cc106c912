variable "environment" {
  description = "Deployment environment name (dev, staging, prod); prefixes the topic, key and alarm names."
  type        = string
}

variable "region" {
  description = "AWS region of the environment (the Region dimension of the WAF metrics, and the SNS endpoint in the key policy)."
  type        = string
}

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic (the on-call rota's address)."
  type        = string
  default     = "platform-oncall@pingvas.example"
}

# --- Aurora PostgreSQL ---------------------------------------------------------------------

variable "db_cluster_id" {
  description = "Identifier of the Aurora cluster (the DBClusterIdentifier dimension of the AWS/RDS metrics)."
  type        = string
}

variable "db_instance_class" {
  description = "Instance class of the Aurora cluster's instances; db_max_connections must be the max_connections of this class."
  type        = string
  default     = "db.r6g.large"
}

variable "db_engine" {
  description = "Engine of the Aurora cluster; with db_instance_class it determines the default max_connections."
  type        = string
  default     = "aurora-postgresql"
}

variable "db_max_connections" {
  description = "max_connections of one instance of the cluster. Must match db_engine and db_instance_class (a policy checks it): the Aurora PostgreSQL default for db.r6g.large is 1000. Set it to the parameter group's value if max_connections is overridden there."
  type        = number
  default     = 1000

  validation {
    condition     = var.db_max_connections > 0
    error_message = "db_max_connections must be a positive number of connections."
  }
}

variable "connections_alarm_percent" {
  description = "Connections alarm threshold, in percent of db_max_connections."
  type        = number
  default     = 80

  validation {
    condition     = var.connections_alarm_percent > 0 && var.connections_alarm_percent < 100
    error_message = "connections_alarm_percent must be between 0 and 100 (exclusive)."
  }
}

variable "free_storage_threshold_bytes" {
  description = "Alarm when an Aurora instance's free local storage (FreeLocalStorage, bytes) drops below this; default 10 GiB."
  type        = number
  default     = 10737418240
}

# --- Load balancer, WAF, EKS -----------------------------------------------------------------

variable "alb_arn_suffix" {
  description = "ARN suffix of the application load balancer (the LoadBalancer dimension of AWS/ApplicationELB metrics)."
  type        = string
}

variable "web_acl_name" {
  description = "Name of the WAF Web ACL (the WebACL dimension of AWS/WAFV2 metrics)."
  type        = string
}

variable "waf_blocked_threshold" {
  description = "Alarm when the Web ACL blocks more than this many requests in 5 minutes."
  type        = number
  default     = 1000
}

variable "cluster_name" {
  description = "Name of the EKS cluster (the ClusterName dimension of ContainerInsights metrics)."
  type        = string
}
