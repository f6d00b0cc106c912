# Rotation of the database credentials and the JWT signing key by Lambda.
#
# Both functions come from one package, secret-rotation.zip, built deterministically by
# infra/services/secret-rotation/build.py from the handlers in that directory:
#   postgres_rotation.lambda_handler  single-user PostgreSQL rotation (needs psycopg 3,
#                                     shipped as a layer: var.rotation_layer_arns)
#   random_rotation.lambda_handler    opaque random value (JWT signing key)
#
# Networking: the database function runs outside a VPC unless rotation_subnet_ids is
# set. A real RDS instance sits in private subnets, so production passes the subnets and
# a security group allowed into the database; the function then reaches Secrets
# Manager through SECRETS_MANAGER_ENDPOINT (a VPC interface endpoint or a NAT gateway).

locals {
  rotate_db_function_name  = "${var.environment}-pingvas-rotate-db-credentials"
  rotate_jwt_function_name = "${var.environment}-pingvas-rotate-jwt-secret"
  rotation_in_vpc          = length(var.rotation_subnet_ids) > 0

  # Network interface permissions a Lambda function needs to run inside a VPC.
  rotation_vpc_statements = local.rotation_in_vpc ? [
    {
      Sid    = "VpcNetworkInterfaces"
      Effect = "Allow"
      Action = [
        "ec2:AssignPrivateIpAddresses",
        "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:UnassignPrivateIpAddresses",
      ]
      Resource = "*"
    },
  ] : []
}

resource "aws_iam_role" "rotation" {
  name        = "${var.environment}-pingvas-secret-rotation"
  description = "Execution role of the pingvas ${var.environment} secret rotation functions."

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { Service = "lambda.amazonaws.com" }
        Action    = "sts:AssumeRole"
      }
    ]
  })
}

resource "aws_iam_role_policy" "rotation" {
  name = "${var.environment}-pingvas-secret-rotation"
  role = aws_iam_role.rotation.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      {
        Sid    = "RotateOwnSecrets"
        Effect = "Allow"
        Action = [
          "secretsmanager:DescribeSecret",
          "secretsmanager:GetSecretValue",
          "secretsmanager:PutSecretValue",
          "secretsmanager:UpdateSecretVersionStage",
        ]
        Resource = [
          aws_secretsmanager_secret.db_credentials.arn,
          aws_secretsmanager_secret.jwt_secret.arn,
        ]
      },
      {
        # GetRandomPassword acts on no resource; "*" is the only valid value.
        Sid      = "GeneratePasswords"
        Effect   = "Allow"
        Action   = "secretsmanager:GetRandomPassword"
        Resource = "*"
      },
      {
        Sid    = "UseSecretsKey"
        Effect = "Allow"
        Action = [
          "kms:Decrypt",
          "kms:GenerateDataKey",
        ]
        Resource = aws_kms_key.secrets.arn
      },
      {
        Sid    = "WriteOwnLogs"
        Effect = "Allow"
        Action = [
          "logs:CreateLogStream",
          "logs:PutLogEvents",
        ]
        Resource = [
          "${aws_cloudwatch_log_group.rotate_db.arn}:*",
          "${aws_cloudwatch_log_group.rotate_jwt.arn}:*",
        ]
      },
    ], local.rotation_vpc_statements)
  })
}

# Log groups created here (not by Lambda on first run) so they have a retention.
resource "aws_cloudwatch_log_group" "rotate_db" {
  name              = "/aws/lambda/${local.rotate_db_function_name}"
  retention_in_days = 30
}

resource "aws_cloudwatch_log_group" "rotate_jwt" {
  name              = "/aws/lambda/${local.rotate_jwt_function_name}"
  retention_in_days = 30
}

resource "aws_lambda_function" "rotate_db" {
  function_name    = local.rotate_db_function_name
  description      = "Single-user rotation of ${aws_secretsmanager_secret.db_credentials.name}."
  role             = aws_iam_role.rotation.arn
  filename         = "${path.module}/secret-rotation.zip"
  source_code_hash = filebase64sha256("${path.module}/secret-rotation.zip")
  runtime          = "python3.12"
  handler          = "postgres_rotation.lambda_handler"
  timeout          = 30
  layers           = var.rotation_layer_arns

  environment {
    variables = {
      SECRETS_MANAGER_ENDPOINT = "https://secretsmanager.${local.region}.amazonaws.com"
    }
  }

  # Only when subnets are given: with the defaults the function has no VPC config.
  dynamic "vpc_config" {
    for_each = local.rotation_in_vpc ? [1] : []
    content {
      subnet_ids         = var.rotation_subnet_ids
      security_group_ids = var.rotation_security_group_ids
    }
  }

  lifecycle {
    precondition {
      condition     = !local.rotation_in_vpc || length(var.rotation_security_group_ids) > 0
      error_message = "rotation_security_group_ids must not be empty when rotation_subnet_ids is set."
    }
  }

  depends_on = [aws_iam_role_policy.rotation, aws_cloudwatch_log_group.rotate_db]
}

resource "aws_lambda_function" "rotate_jwt" {
  function_name    = local.rotate_jwt_function_name
  description      = "Rotation of ${aws_secretsmanager_secret.jwt_secret.name} (random value)."
  role             = aws_iam_role.rotation.arn
  filename         = "${path.module}/secret-rotation.zip"
  source_code_hash = filebase64sha256("${path.module}/secret-rotation.zip")
  runtime          = "python3.12"
  handler          = "random_rotation.lambda_handler"
  timeout          = 30

  environment {
    variables = {
      SECRETS_MANAGER_ENDPOINT = "https://secretsmanager.${local.region}.amazonaws.com"
    }
  }

  depends_on = [aws_iam_role_policy.rotation, aws_cloudwatch_log_group.rotate_jwt]
}

# Secrets Manager may invoke each function, and only for its own secret.
resource "aws_lambda_permission" "rotate_db" {
  statement_id   = "AllowSecretsManagerRotation"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.rotate_db.function_name
  principal      = "secretsmanager.amazonaws.com"
  source_arn     = aws_secretsmanager_secret.db_credentials.arn
  source_account = local.account_id
}

resource "aws_lambda_permission" "rotate_jwt" {
  statement_id   = "AllowSecretsManagerRotation"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.rotate_jwt.function_name
  principal      = "secretsmanager.amazonaws.com"
  source_arn     = aws_secretsmanager_secret.jwt_secret.arn
  source_account = local.account_id
}

# rotate_immediately = false: turning rotation on does not rotate right away, so the
# initial value written above stays current until the first scheduled rotation.
resource "aws_secretsmanager_secret_rotation" "db_credentials" {
  secret_id           = aws_secretsmanager_secret.db_credentials.id
  rotation_lambda_arn = aws_lambda_function.rotate_db.arn
  rotate_immediately  = false

  rotation_rules {
    automatically_after_days = 30
  }

  depends_on = [aws_lambda_permission.rotate_db, aws_secretsmanager_secret_version.db_credentials]
}

resource "aws_secretsmanager_secret_rotation" "jwt_secret" {
  secret_id           = aws_secretsmanager_secret.jwt_secret.id
  rotation_lambda_arn = aws_lambda_function.rotate_jwt.arn
  rotate_immediately  = false

  rotation_rules {
    automatically_after_days = 30
  }

  depends_on = [aws_lambda_permission.rotate_jwt, aws_secretsmanager_secret_version.jwt_secret]
}
