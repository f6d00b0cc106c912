# WAF logging: Web ACL -> Kinesis Data Firehose -> S3 (GZIP).
# The Firehose stream name must start with "aws-waf-logs-" for WAF to accept it
# as a log destination. Authorization and Cookie headers are redacted.

locals {
  waf_log_bucket_name = "${var.environment}-pingvas-waf-logs"
  waf_log_stream_name = "aws-waf-logs-${var.environment}-pingvas"
  firehose_log_group  = "/aws/kinesisfirehose/aws-waf-logs-${var.environment}-pingvas"
}

resource "aws_s3_bucket" "waf_logs" {
  bucket = local.waf_log_bucket_name

  tags = {
    Name = local.waf_log_bucket_name
  }
}

resource "aws_s3_bucket_public_access_block" "waf_logs" {
  bucket = aws_s3_bucket.waf_logs.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "waf_logs" {
  bucket = aws_s3_bucket.waf_logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# Role that Firehose assumes to write the log objects.
resource "aws_iam_role" "firehose" {
  name = "${var.environment}-pingvas-waf-logs-firehose"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { Service = "firehose.amazonaws.com" }
        Action    = "sts:AssumeRole"
      }
    ]
  })
}

resource "aws_iam_role_policy" "firehose" {
  name = "${var.environment}-pingvas-waf-logs-delivery"
  role = aws_iam_role.firehose.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "WriteWafLogObjects"
        Effect = "Allow"
        Action = [
          "s3:AbortMultipartUpload",
          "s3:GetBucketLocation",
          "s3:GetObject",
          "s3:ListBucket",
          "s3:ListBucketMultipartUploads",
          "s3:PutObject",
        ]
        Resource = [
          aws_s3_bucket.waf_logs.arn,
          "${aws_s3_bucket.waf_logs.arn}/*",
        ]
      },
      {
        Sid      = "ReportDeliveryErrors"
        Effect   = "Allow"
        Action   = ["logs:PutLogEvents"]
        Resource = ["${aws_cloudwatch_log_group.firehose.arn}:*"]
      }
    ]
  })
}

# Where Firehose reports delivery errors.
resource "aws_cloudwatch_log_group" "firehose" {
  name              = local.firehose_log_group
  retention_in_days = 30
}

resource "aws_cloudwatch_log_stream" "firehose_s3_delivery" {
  name           = "S3Delivery"
  log_group_name = aws_cloudwatch_log_group.firehose.name
}

resource "aws_kinesis_firehose_delivery_stream" "waf_logs" {
  name        = local.waf_log_stream_name
  destination = "extended_s3"

  extended_s3_configuration {
    role_arn            = aws_iam_role.firehose.arn
    bucket_arn          = aws_s3_bucket.waf_logs.arn
    prefix              = "waf-logs/!{timestamp:yyyy/MM/dd}/"
    error_output_prefix = "waf-logs-errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/"
    compression_format  = "GZIP"
    buffering_size      = 5
    buffering_interval  = 300

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.firehose.name
      log_stream_name = aws_cloudwatch_log_stream.firehose_s3_delivery.name
    }
  }

  # Firehose checks its permissions when the stream is created.
  depends_on = [aws_iam_role_policy.firehose]
}

resource "aws_wafv2_web_acl_logging_configuration" "main" {
  resource_arn            = aws_wafv2_web_acl.main.arn
  log_destination_configs = [aws_kinesis_firehose_delivery_stream.waf_logs.arn]

  # Never write credentials or session tokens to the logs.
  redacted_fields {
    single_header {
      name = "authorization"
    }
  }

  redacted_fields {
    single_header {
      name = "cookie"
    }
  }
}
