"""WAF family: Web ACL model, static and live readers, check bodies."""
