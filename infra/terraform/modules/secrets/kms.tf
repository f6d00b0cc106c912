# Customer-managed key for the module's secrets.
#
# Key policy, three statements:
#   1. the account (root principal) administers the key; no cryptographic use and no
#      kms:CreateGrant (which could hand out Decrypt) comes from this statement, so IAM
#      policies alone cannot decrypt with the key;
#   2. principals of this account may use it only through Secrets Manager in this
#      region (kms:ViaService + kms:CallerAccount), which is how every reader of the
#      secrets (applications, External Secrets Operator) reaches it;
#   3. the rotation Lambda role may Decrypt / GenerateDataKey, also only through
#      Secrets Manager.

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

locals {
  account_id   = data.aws_caller_identity.current.account_id
  region       = data.aws_region.current.name
  account_root = "arn:aws:iam::${local.account_id}:root"
  via_secrets  = "secretsmanager.${local.region}.amazonaws.com"
}

resource "aws_kms_key" "secrets" {
  description             = "pingvas ${var.environment} Secrets Manager secrets"
  key_usage               = "ENCRYPT_DECRYPT"
  enable_key_rotation     = true
  deletion_window_in_days = 30

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersKey"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action = [
          "kms:CancelKeyDeletion",
          "kms:CreateAlias",
          "kms:Delete*",
          "kms:Describe*",
          "kms:Disable*",
          "kms:Enable*",
          "kms:Get*",
          "kms:List*",
          "kms:Put*",
          "kms:Revoke*",
          "kms:ScheduleKeyDeletion",
          "kms:TagResource",
          "kms:UntagResource",
          "kms:Update*",
        ]
        Resource = "*"
      },
      {
        Sid       = "UseThroughSecretsManagerOnly"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action = [
          "kms:Decrypt",
          "kms:DescribeKey",
          "kms:Encrypt",
          "kms:GenerateDataKey*",
          "kms:ReEncrypt*",
        ]
        Resource = "*"
        Condition = {
          StringEquals = {
            "kms:ViaService"    = local.via_secrets
            "kms:CallerAccount" = local.account_id
          }
        }
      },
      {
        Sid       = "RotationFunctionsUseKey"
        Effect    = "Allow"
        Principal = { AWS = aws_iam_role.rotation.arn }
        Action = [
          "kms:Decrypt",
          "kms:GenerateDataKey",
        ]
        Resource = "*"
        Condition = {
          StringEquals = {
            "kms:ViaService" = local.via_secrets
          }
        }
      },
    ]
  })

  tags = {
    Name = "${var.environment}-pingvas-secrets"
  }
}

resource "aws_kms_alias" "secrets" {
  name          = "alias/${var.environment}-pingvas-secrets"
  target_key_id = aws_kms_key.secrets.key_id
}
