# dev environment: network -> application load balancer -> WAF, and the application
# secrets (KMS key, Secrets Manager secrets, rotation functions).
# The alarms module is not composed here yet (see its main.tf).

terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "pingvas"
      Environment = var.environment
    }
  }
}

module "network" {
  source = "../../modules/network"

  environment = var.environment
}

module "alb" {
  source = "../../modules/alb"

  environment = var.environment
  vpc_id      = module.network.vpc_id
  vpc_cidr    = module.network.vpc_cidr
  subnet_ids  = module.network.public_subnet_ids
}

module "waf" {
  source = "../../modules/waf"

  environment = var.environment
  alb_arn     = module.alb.arn
}

module "secrets" {
  source = "../../modules/secrets"

  environment = var.environment
}
