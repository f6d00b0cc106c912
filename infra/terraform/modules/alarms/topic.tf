# Alarm notification path: CloudWatch alarm -> SNS topic (encrypted with this module's
# customer-managed KMS key) -> subscribers (on-call e-mail; any other subscriber, e.g. a
# chat webhook relay or a test queue, is added the same way).
#
# Key policy, three statements:
#   1. the account (root principal) administers the key; no cryptographic use comes
#      from this statement;
#   2. CloudWatch (service principal) may Decrypt / GenerateDataKey*: an alarm action
#      publishes to the encrypted topic as cloudwatch.amazonaws.com, and without this
#      statement every notification is dropped silently (the alarm still changes state);
#   3. principals of this account may use the key only through SNS in this region
#      (kms:ViaService + kms:CallerAccount): publishers such as an operator sending a
#      test message, or the live alarm test.
# The topic policy lets CloudWatch publish only for alarms of this account
# (aws:SourceAccount), so another account's alarm cannot use the topic.

data "aws_caller_identity" "current" {}

locals {
  account_id   = data.aws_caller_identity.current.account_id
  account_root = "arn:aws:iam::${local.account_id}:root"
  via_sns      = "sns.${var.region}.amazonaws.com"
}

resource "aws_kms_key" "alarms" {
  description             = "pingvas ${var.environment} alarm notifications (SNS)"
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
        Sid       = "CloudWatchPublishesToEncryptedTopic"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action = [
          "kms:Decrypt",
          "kms:GenerateDataKey*",
        ]
        Resource = "*"
      },
      {
        Sid       = "UseThroughSnsOnly"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action = [
          "kms:Decrypt",
          "kms:GenerateDataKey*",
        ]
        Resource = "*"
        Condition = {
          StringEquals = {
            "kms:ViaService"    = local.via_sns
            "kms:CallerAccount" = local.account_id
          }
        }
      },
    ]
  })

  tags = {
    Name = "${var.environment}-pingvas-alarms"
  }
}

resource "aws_kms_alias" "alarms" {
  name          = "alias/${var.environment}-pingvas-alarms"
  target_key_id = aws_kms_key.alarms.key_id
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.environment}-pingvas-alarms"
  kms_master_key_id = aws_kms_key.alarms.arn

  tags = {
    Name = "${var.environment}-pingvas-alarms"
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn = aws_sns_topic.alarms.arn

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountManagesTopic"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action = [
          "sns:GetTopicAttributes",
          "sns:SetTopicAttributes",
          "sns:AddPermission",
          "sns:RemovePermission",
          "sns:DeleteTopic",
          "sns:Subscribe",
          "sns:ListSubscriptionsByTopic",
          "sns:Publish",
        ]
        Resource = aws_sns_topic.alarms.arn
      },
      {
        Sid       = "CloudWatchAlarmsOfThisAccountPublish"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.alarms.arn
        Condition = {
          StringEquals = {
            "aws:SourceAccount" = local.account_id
          }
        }
      },
    ]
  })
}

# E-mail subscriptions stay "pending confirmation" until the recipient confirms; the live
# tier checks that the topic has at least one subscription.
resource "aws_sns_topic_subscription" "email" {
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}
