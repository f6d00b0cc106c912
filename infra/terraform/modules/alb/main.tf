# Internet-facing application load balancer in front of the platform's
# services; the WAF Web ACL is associated with it.

resource "aws_security_group" "alb" {
  name        = "${var.environment}-pingvas-alb"
  description = "Public HTTP/HTTPS to the pingvas load balancer"
  vpc_id      = var.vpc_id

  ingress {
    description = "HTTP (redirected to HTTPS)"
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  ingress {
    description = "HTTPS"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    description = "To targets inside the VPC"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = [var.vpc_cidr]
  }

  tags = {
    Name = "${var.environment}-pingvas-alb"
  }
}

resource "aws_lb" "main" {
  name               = "${var.environment}-pingvas-alb"
  load_balancer_type = "application"
  internal           = false
  security_groups    = [aws_security_group.alb.id]
  subnets            = var.subnet_ids

  # Reject requests with malformed headers instead of passing them on.
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection

  tags = {
    Name = "${var.environment}-pingvas-alb"
  }
}
