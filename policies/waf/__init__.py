"""WAF family: Web ACL model, static and live readers, check bodies, drift and attack probes."""

from typing import Any

from policies.registry import Family


def _read(tree: Any) -> Any:
    from policies.waf.casefiles import read_case_files
    from policies.waf.static import read_static

    inventory = read_static(tree.terraform)
    inventory.cases, inventory.case_errors = read_case_files(tree.sources, tree.waf_cases)
    return inventory


FAMILY = Family(
    name="waf",
    what="WAFv2 Web ACL (aws_wafv2_web_acl)",
    read=_read,
    present=lambda inventory: bool(inventory.acls),
    live="waf_live",
)
