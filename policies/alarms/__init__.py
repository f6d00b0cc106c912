"""Alarms family: CloudWatch alarms, their SNS topic, and what feeds their metrics."""
