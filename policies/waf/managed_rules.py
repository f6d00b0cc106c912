"""The rules of the AWS managed rule groups, as the AWS WAF developer guide lists them ("AWS
Managed Rules rule groups list": baseline, use-case and IP reputation groups; the static
versions documented there), and the few triggers AWS documents exactly.

Every rule listed here has the rule action Block in the guide. The groups' detection logic is
not published ("without giving bad actors what they need to circumvent the rules"): the
simulator treats a group as opaque, and a case declares which of its rules match a request.
Groups not listed here (Bot Control, ATP, ACFP, Marketplace groups) have no rule table: a case
may still declare their rules, unchecked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html
# https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-use-case.html
# https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-ip-rep.html
RULES: dict[str, tuple[str, ...]] = {
    "AWSManagedRulesCommonRuleSet": (
        "NoUserAgent_HEADER",
        "UserAgent_BadBots_HEADER",
        "SizeRestrictions_QUERYSTRING",
        "SizeRestrictions_Cookie_HEADER",
        "SizeRestrictions_BODY",
        "SizeRestrictions_URIPATH",
        "EC2MetaDataSSRF_BODY",
        "EC2MetaDataSSRF_COOKIE",
        "EC2MetaDataSSRF_URIPATH",
        "EC2MetaDataSSRF_QUERYARGUMENTS",
        "GenericLFI_QUERYARGUMENTS",
        "GenericLFI_URIPATH",
        "GenericLFI_BODY",
        "RestrictedExtensions_URIPATH",
        "RestrictedExtensions_QUERYARGUMENTS",
        "GenericRFI_QUERYARGUMENTS",
        "GenericRFI_BODY",
        "GenericRFI_URIPATH",
        "CrossSiteScripting_COOKIE",
        "CrossSiteScripting_QUERYARGUMENTS",
        "CrossSiteScripting_BODY",
        "CrossSiteScripting_URIPATH",
    ),
    "AWSManagedRulesSQLiRuleSet": (
        "SQLi_QUERYARGUMENTS",
        "SQLiExtendedPatterns_QUERYARGUMENTS",
        "SQLi_BODY",
        "SQLiExtendedPatterns_BODY",
        "SQLi_COOKIE",
        "SQLi_URIPATH",
    ),
    "AWSManagedRulesKnownBadInputsRuleSet": (
        "JavaDeserializationRCE_HEADER",
        "JavaDeserializationRCE_BODY",
        "JavaDeserializationRCE_URIPATH",
        "JavaDeserializationRCE_QUERYSTRING",
        "Host_localhost_HEADER",
        "PROPFIND_METHOD",
        "ExploitablePaths_URIPATH",
        "Log4JRCE_HEADER",
        "Log4JRCE_QUERYSTRING",
        "Log4JRCE_BODY",
        "Log4JRCE_URIPATH",
    ),
    "AWSManagedRulesAmazonIpReputationList": (
        "AWSManagedIPReputationList",
        "AWSManagedReconnaissanceList",
        "AWSManagedIPDDoSList",
    ),
    "AWSManagedRulesAnonymousIpList": ("AnonymousIPList", "HostingProviderIPList"),
}


@dataclass(frozen=True)
class Seen:
    """What a documented trigger reads of a request (the simulator's Request, duck-typed to
    keep this table free of the simulator)."""

    body_size: int
    query_size: int
    path_size: int
    cookie_size: int
    has_user_agent: bool


# Core rule set triggers the guide states exactly (baseline page, CRS table): the size rules
# compare the component's size in bytes, NoUserAgent_HEADER a missing User-Agent header.
TRIGGERS: dict[str, dict[str, Callable[[Seen], bool]]] = {
    "AWSManagedRulesCommonRuleSet": {
        "NoUserAgent_HEADER": lambda r: not r.has_user_agent,
        "SizeRestrictions_QUERYSTRING": lambda r: r.query_size > 2048,
        "SizeRestrictions_Cookie_HEADER": lambda r: r.cookie_size > 10240,
        "SizeRestrictions_BODY": lambda r: r.body_size > 8192,
        "SizeRestrictions_URIPATH": lambda r: r.path_size > 1024,
    },
}
