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
