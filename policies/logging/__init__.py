"""Logging family: Fluent Bit pipelines in Helm values (classic config, tree-sitter-fluentbit)."""
