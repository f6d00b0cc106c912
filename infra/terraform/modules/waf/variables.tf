variable "environment" {
  description = "Deployment environment name (dev, staging, prod); prefixes the Web ACL, metric and log resource names."
  type        = string
}

variable "alb_arn" {
  description = "ARN of the application load balancer the Web ACL is associated with."
  type        = string
}

variable "rate_limit" {
  description = "Maximum requests per source IP in a 5-minute window before the RateLimit rule blocks."
  type        = number
  default     = 2000

  validation {
    condition     = var.rate_limit >= 100 && var.rate_limit <= 20000
    error_message = "rate_limit must be between 100 and 20000 requests per 5 minutes."
  }
}

variable "blocked_country_codes" {
  description = "ISO 3166-1 alpha-2 country codes blocked by the GeoBlocking rule."
  type        = list(string)
  default     = ["CN", "RU"]
}

variable "upload_path_prefix" {
  description = "URI path prefix of the image upload endpoint, exempt from the request body size limit."
  type        = string
  default     = "/api/v1/images/upload"
}
