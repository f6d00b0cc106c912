"""WAF family: Web ACL model, static and live readers, check bodies, drift and attack probes."""

from typing import Any

from policies.registry import Family


def _read(tree: Any) -> Any:
    from policies.waf.static import read_static

    return read_static(tree.terraform)


FAMILY = Family(
    name="waf",
    what="WAFv2 Web ACL (aws_wafv2_web_acl)",
    read=_read,
    present=lambda inventory: bool(inventory.acls),
    live="waf_live",
)
