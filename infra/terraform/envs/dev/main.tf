# dev environment: network -> application load balancer -> WAF, the application
# secrets (KMS key, Secrets Manager secrets, rotation functions), and the CloudWatch
# alarms with their encrypted SNS topic.
# The EKS add-ons (modules/eks_addons) are applied by the EKS root with the cluster.

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

module "alarms" {
  source = "../../modules/alarms"

  environment    = var.environment
  region         = var.region
  alarm_email    = var.alarm_email
  db_cluster_id  = var.db_cluster_id
  cluster_name   = var.eks_cluster_name
  alb_arn_suffix = module.alb.arn_suffix
  web_acl_name   = module.waf.web_acl_name
}
