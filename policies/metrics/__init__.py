"""Metrics family: what dashboards and rules query, what the scrape jobs and exporters produce."""
