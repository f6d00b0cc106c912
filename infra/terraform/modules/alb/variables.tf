variable "environment" {
  description = "Deployment environment name (dev, staging, prod); prefixes every resource name."
  type        = string
}

variable "vpc_id" {
  description = "ID of the VPC the load balancer's security group belongs to."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC; the load balancer may only send traffic inside it."
  type        = string
}

variable "subnet_ids" {
  description = "Public subnets (at least two, in different availability zones) for the load balancer."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "An application load balancer needs subnets in at least two availability zones."
  }
}

variable "deletion_protection" {
  description = "Whether the load balancer is protected against deletion."
  type        = bool
  default     = false
}
