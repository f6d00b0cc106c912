# Database Credentials
resource "aws_secretsmanager_secret" "db_credentials" {
  name = "${var.environment}/pingvas/db-credentials"

  tags = {
    Name = "${var.environment}-db-credentials"
  }
}

resource "aws_secretsmanager_secret_version" "db_credentials" {
  secret_id = aws_secretsmanager_secret.db_credentials.id

  secret_string = jsonencode({
    username = var.db_username
    password = var.db_password
    host     = var.db_host
    port     = var.db_port
    dbname   = var.db_name
  })
}

# JWT Secret
resource "aws_secretsmanager_secret" "jwt_secret" {
  name = "${var.environment}/pingvas/jwt-secret"
}

resource "random_password" "jwt_secret" {
  length  = 64
  special = true
}

resource "aws_secretsmanager_secret_version" "jwt_secret" {
  secret_id     = aws_secretsmanager_secret.jwt_secret.id
  secret_string = random_password.jwt_secret.result
}

# Lemon Squeezy API Key
resource "aws_secretsmanager_secret" "lemon_squeezy" {
  name = "${var.environment}/pingvas/lemon-squeezy"
}
