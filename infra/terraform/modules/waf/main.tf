# WAF Web ACL for the public load balancer.
#
# Rule order follows the recommended WAF rule order (default action Allow):
#   1. cheap rules that drop the widest unwanted traffic first, on the source IP
#      alone: Amazon IP reputation list (0), geo block (1), rate limit (2);
#   2. request inspection by the signature groups: Core rule set (3), then the
#      label rule that depends on it (4), SQL injection (5), known bad inputs (6).
# A rule that matches a label must come after the rule group that emits the
# label, so BlockOversizedBodyExceptUploads (4) sits right after the Core rule
# set (3). Every rule blocks or is a managed group with its own actions: there
# is no Allow rule that would end evaluation early.
resource "aws_wafv2_web_acl" "main" {
  name        = "${var.environment}-pingvas-waf"
  description = "pingvas ${var.environment} public load balancer"
  scope       = "REGIONAL"

  default_action {
    allow {}
  }

  # 0: requests from IPs on Amazon's threat intelligence list (bots,
  # reconnaissance, DDoS sources). IP-only, cheapest possible check.
  rule {
    name     = "AWSManagedRulesAmazonIpReputationList"
    priority = 0

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        name        = "AWSManagedRulesAmazonIpReputationList"
        vendor_name = "AWS"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.environment}-AmazonIpReputationList"
      sampled_requests_enabled   = true
    }
  }

  # 1: countries the service is not offered in. IP-only as well.
  rule {
    name     = "GeoBlocking"
    priority = 1

    action {
      block {}
    }

    statement {
      geo_match_statement {
        country_codes = var.blocked_country_codes
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.environment}-GeoBlocking"
      sampled_requests_enabled   = true
    }
  }

  # 2: per-IP rate limit over a 5-minute window, before any body inspection
  # so floods do not reach the (more expensive) signature groups.
  rule {
    name     = "RateLimit"
    priority = 2

    action {
      block {}
    }

    statement {
      rate_based_statement {
        limit              = var.rate_limit
        aggregate_key_type = "IP"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.environment}-RateLimit"
      sampled_requests_enabled   = true
    }
  }

  # 3: Core rule set. SizeRestrictions_BODY is switched to Count, not
  # disabled: it still labels oversized bodies, and rule 4 blocks them
  # everywhere except on the image upload path (uploads are large).
  rule {
    name     = "AWSManagedRulesCommonRuleSet"
    priority = 3

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        name        = "AWSManagedRulesCommonRuleSet"
        vendor_name = "AWS"

        rule_action_override {
          name = "SizeRestrictions_BODY"
          action_to_use {
            count {}
          }
        }
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.environment}-CommonRuleSet"
      sampled_requests_enabled   = true
    }
  }

  # 4: block an oversized body (label emitted by rule 3) unless the request
  # goes to the upload path. Must come after the rule group that emits the label.
  rule {
    name     = "BlockOversizedBodyExceptUploads"
    priority = 4

    action {
      block {}
    }

    statement {
      and_statement {
        statement {
          label_match_statement {
            scope = "LABEL"
            key   = "awswaf:managed:aws:core-rule-set:SizeRestrictions_Body"
          }
        }

        statement {
          not_statement {
            statement {
              byte_match_statement {
                search_string         = var.upload_path_prefix
                positional_constraint = "STARTS_WITH"

                field_to_match {
                  uri_path {}
                }

                text_transformation {
                  priority = 0
                  type     = "NONE"
                }
              }
            }
          }
        }
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.environment}-BlockOversizedBodyExceptUploads"
      sampled_requests_enabled   = true
    }
  }

  # 5: SQL injection signatures (the platform runs on PostgreSQL).
  rule {
    name     = "AWSManagedRulesSQLiRuleSet"
    priority = 5

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        name        = "AWSManagedRulesSQLiRuleSet"
        vendor_name = "AWS"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.environment}-SQLiRuleSet"
      sampled_requests_enabled   = true
    }
  }

  # 6: known bad inputs (Log4j/JNDI lookups, Java deserialization, localhost
  # Host headers, exploitable paths).
  rule {
    name     = "AWSManagedRulesKnownBadInputsRuleSet"
    priority = 6

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        name        = "AWSManagedRulesKnownBadInputsRuleSet"
        vendor_name = "AWS"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.environment}-KnownBadInputsRuleSet"
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${var.environment}-pingvas-waf"
    sampled_requests_enabled   = true
  }

  tags = {
    Name = "${var.environment}-pingvas-waf"
  }
}

# Associate the Web ACL with the load balancer.
resource "aws_wafv2_web_acl_association" "main" {
  resource_arn = var.alb_arn
  web_acl_arn  = aws_wafv2_web_acl.main.arn
}
