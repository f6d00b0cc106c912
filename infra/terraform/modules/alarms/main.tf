# CloudWatch alarms of one environment. Every alarm notifies the encrypted alarm topic
# (topic.tf) on ALARM and on OK, states explicitly how missing data is treated, and needs
# M of N breaching datapoints (datapoints_to_alarm) so a single spike does not page.
#
# Alarms:
#   rds_cpu_high          Aurora cluster CPU > 80 % for 15 minutes.
#   rds_connections_high  connections above a percentage of the instance class's
#                         max_connections (metric math, not an absolute count); no data
#                         from a live cluster is treated as breaching (writer gone).
#   rds_free_storage_low  local (temporary) storage of the Aurora instances running out.
#   alb_5xx_rate_high     share of target 5xx responses among all requests, in percent.
#   waf_blocked_spike     WAF blocking far more than usual: an attack or a false positive.
#   eks_node_cpu_high     EKS node CPU from Container Insights; those metrics exist only
#                         when the amazon-cloudwatch-observability add-on runs on the
#                         cluster (modules/eks_addons).
#
# Not here, on purpose: GPU utilisation and the generation queue. Both are alerted on in
# Prometheus (PrometheusRule), next to the dashboards that show them:
#   - the queue length is the generation service's own gauge, scraped by Prometheus; the
#     queue is not an AWS service, so there is no CloudWatch-native metric for it;
#   - GPU utilisation comes from dcgm-exporter. Container Insights can also publish GPU
#     metrics (node_gpu_utilization, ...), but a saturated GPU is the normal state of a
#     busy generation node, so a threshold on it alone pages for nothing; the actionable
#     conditions (queue growing while the GPUs are saturated, GPUs idle while work is
#     queued, a pod stuck on one GPU) join the queue gauge with DCGM series per pod,
#     which only Prometheus has.
#
# Checked values (thresholds, periods, evaluation counts, statistics, comparisons,
# missing-data treatment) are literals or plain variables, so a static reader can verify
# them without evaluating Terraform expressions.

# --- Aurora PostgreSQL -------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "rds_cpu_high" {
  alarm_name          = "${var.environment}-pingvas-rds-cpu-high"
  alarm_description   = "Aurora cluster ${var.db_cluster_id}: average CPU above 80% for 15 minutes. Check Performance Insights for the top SQL and blocking sessions, kill runaway queries, then add a reader or scale the instance class if the load is legitimate."
  namespace           = "AWS/RDS"
  metric_name         = "CPUUtilization"
  statistic           = "Average"
  comparison_operator = "GreaterThanThreshold"
  threshold           = 80
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  treat_missing_data  = "missing"

  dimensions = {
    DBClusterIdentifier = var.db_cluster_id
  }

  alarm_actions = [aws_sns_topic.alarms.arn]
  ok_actions    = [aws_sns_topic.alarms.arn]
}

# DatabaseConnections with only the DBClusterIdentifier dimension carries one datapoint
# per instance; the Maximum statistic therefore follows the busiest instance, and
# max_connections is a per-instance limit.
resource "aws_cloudwatch_metric_alarm" "rds_connections_high" {
  alarm_name          = "${var.environment}-pingvas-rds-connections-high"
  alarm_description   = "Aurora cluster ${var.db_cluster_id}: connections above ${var.connections_alarm_percent}% of max_connections (${var.db_max_connections} for ${var.db_engine} on ${var.db_instance_class}) for 3 minutes, or no connection data at all (writer gone). Look for connection leaks and idle-in-transaction sessions in pg_stat_activity, check the application pool sizes, and put RDS Proxy or PgBouncer in front before raising max_connections."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.connections_alarm_percent
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  treat_missing_data  = "breaching"

  metric_query {
    id          = "pct"
    expression  = "100 * conn / ${var.db_max_connections}"
    label       = "connections as % of max_connections"
    return_data = true
  }

  metric_query {
    id = "conn"

    metric {
      namespace   = "AWS/RDS"
      metric_name = "DatabaseConnections"
      period      = 60
      stat        = "Maximum"

      dimensions = {
        DBClusterIdentifier = var.db_cluster_id
      }
    }
  }

  alarm_actions = [aws_sns_topic.alarms.arn]
  ok_actions    = [aws_sns_topic.alarms.arn]
}

# FreeLocalStorage is the instances' local disk (temporary tables, sorts, logs); Aurora's
# cluster volume grows by itself and has no free-space metric to alarm on.
resource "aws_cloudwatch_metric_alarm" "rds_free_storage_low" {
  alarm_name          = "${var.environment}-pingvas-rds-free-local-storage-low"
  alarm_description   = "Aurora cluster ${var.db_cluster_id}: an instance has less than ${var.free_storage_threshold_bytes} bytes of local storage left for 10 minutes. Find the queries spilling to temporary files (pg_stat_statements temp_blks_written, log_temp_files), raise work_mem for them or fix them, and scale the instance class if the temporary space is needed."
  namespace           = "AWS/RDS"
  metric_name         = "FreeLocalStorage"
  statistic           = "Minimum"
  comparison_operator = "LessThanThreshold"
  threshold           = var.free_storage_threshold_bytes
  period              = 300
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  treat_missing_data  = "missing"

  dimensions = {
    DBClusterIdentifier = var.db_cluster_id
  }

  alarm_actions = [aws_sns_topic.alarms.arn]
  ok_actions    = [aws_sns_topic.alarms.arn]
}

# --- Load balancer and WAF -----------------------------------------------------------------

# The load balancer publishes HTTPCode_Target_5XX_Count only for minutes that had a 5xx,
# so FILL(e5xx, 0) turns "no 5xx" into 0 % instead of a gap; minutes without any request
# have no RequestCount either and stay missing (not breaching).
resource "aws_cloudwatch_metric_alarm" "alb_5xx_rate_high" {
  alarm_name          = "${var.environment}-pingvas-alb-5xx-rate-high"
  alarm_description   = "Load balancer ${var.alb_arn_suffix}: more than 5% of requests answered 5xx by the targets in 3 of the last 5 minutes. Check the failing service's pods (restarts, OOM kills, readiness), its logs, and the last deployment; roll back if the errors started with a release."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 5
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  treat_missing_data  = "notBreaching"

  metric_query {
    id          = "rate"
    expression  = "IF(requests > 0, 100 * FILL(e5xx, 0) / requests, 0)"
    label       = "target 5xx as % of requests"
    return_data = true
  }

  metric_query {
    id = "e5xx"

    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      period      = 60
      stat        = "Sum"

      dimensions = {
        LoadBalancer = var.alb_arn_suffix
      }
    }
  }

  metric_query {
    id = "requests"

    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "RequestCount"
      period      = 60
      stat        = "Sum"

      dimensions = {
        LoadBalancer = var.alb_arn_suffix
      }
    }
  }

  alarm_actions = [aws_sns_topic.alarms.arn]
  ok_actions    = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "waf_blocked_spike" {
  alarm_name          = "${var.environment}-pingvas-waf-blocked-spike"
  alarm_description   = "Web ACL ${var.web_acl_name}: more than ${var.waf_blocked_threshold} requests blocked in 5 minutes. Look at the sampled requests and the WAF logs: if one source or path dominates it is an attack (tighten the rate limit or add an IP set); if real users are blocked by a rule, fix or scope that rule with a waiver."
  namespace           = "AWS/WAFV2"
  metric_name         = "BlockedRequests"
  statistic           = "Sum"
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.waf_blocked_threshold
  period              = 300
  evaluation_periods  = 1
  datapoints_to_alarm = 1
  treat_missing_data  = "notBreaching"

  dimensions = {
    WebACL = var.web_acl_name
    Region = var.region
    Rule   = "ALL"
  }

  alarm_actions = [aws_sns_topic.alarms.arn]
  ok_actions    = [aws_sns_topic.alarms.arn]
}

# --- EKS -----------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "eks_node_cpu_high" {
  alarm_name          = "${var.environment}-pingvas-eks-node-cpu-high"
  alarm_description   = "EKS cluster ${var.cluster_name}: average node CPU above 80% for 15 minutes (Container Insights). Find the busy pods (kubectl top pods -A), check CPU requests and limits, and let the cluster autoscaler add nodes or raise the node group's maximum."
  namespace           = "ContainerInsights"
  metric_name         = "node_cpu_utilization"
  statistic           = "Average"
  comparison_operator = "GreaterThanThreshold"
  threshold           = 80
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  treat_missing_data  = "missing"

  dimensions = {
    ClusterName = var.cluster_name
  }

  alarm_actions = [aws_sns_topic.alarms.arn]
  ok_actions    = [aws_sns_topic.alarms.arn]
}
