"""Managed rule labels as AWS emits them (case-sensitive), and the guide's WAF-012 fix."""

import pytest

from policies.catalog import load_catalog
from policies.registry import all_checks, families
from policies.sources import Sources
from policies.tree import Tree
from policies.waf.model import emitted_spelling, managed_label
from tests.helpers import FIXTURES

CRS = "awswaf:managed:aws:core-rule-set:"
KBI = "awswaf:managed:aws:known-bad-inputs:"
SQLI = "awswaf:managed:aws:sql-database:"


@pytest.mark.parametrize(
    ("namespace", "rule", "label"),
    [  # rule names and labels as the AWS WAF developer guide lists them
        (CRS, "NoUserAgent_HEADER", "NoUserAgent_Header"),
        (CRS, "UserAgent_BadBots_HEADER", "BadBots_Header"),
        (CRS, "SizeRestrictions_QUERYSTRING", "SizeRestrictions_QueryString"),
        (CRS, "SizeRestrictions_Cookie_HEADER", "SizeRestrictions_Cookie_Header"),
        (CRS, "SizeRestrictions_BODY", "SizeRestrictions_Body"),
        (CRS, "SizeRestrictions_URIPATH", "SizeRestrictions_URIPath"),
        (CRS, "EC2MetaDataSSRF_QUERYARGUMENTS", "EC2MetaDataSSRF_QueryArguments"),
        (CRS, "CrossSiteScripting_COOKIE", "CrossSiteScripting_Cookie"),
        (KBI, "Host_localhost_HEADER", "Host_Localhost_Header"),
        (KBI, "PROPFIND_METHOD", "Propfind_Method"),
        (KBI, "Log4JRCE_QUERYSTRING", "Log4JRCE_QueryString"),
        (SQLI, "SQLi_QUERYARGUMENTS", "SQLi_QueryArguments"),
        ("awswaf:managed:aws:amazon-ip-list:", "AWSManagedIPDDoSList", "AWSManagedIPDDoSList"),
    ],
)
def test_managed_rule_labels_are_spelled_as_aws_emits_them(namespace, rule, label):
    assert managed_label(namespace, rule) == namespace + label
    assert emitted_spelling(namespace + label, [namespace]) is None
    if rule != label:
        assert emitted_spelling(namespace + rule, [namespace]) == namespace + label


def test_a_namespace_key_or_a_custom_label_is_never_respelled():
    assert emitted_spelling(CRS, [CRS]) is None
    assert emitted_spelling("pingvas:upload:TOO_BIG_BODY", [CRS]) is None
    assert emitted_spelling(KBI + "host_localhost_header", [KBI]) == KBI + "Host_Localhost_Header"


def test_the_guide_waf_012_fix_names_the_label_aws_emits():
    policy = load_catalog()["WAF-012"]
    inventory = families()["waf"].read(Tree(Sources(FIXTURES / "seed")))
    findings = all_checks()["WAF-012"](inventory, policy)
    assert [f.resource.names[-1] for f in findings] == ["SizeRestrictions_BODY"]
    assert findings[0].expected.endswith(f"matching label {CRS}SizeRestrictions_Body")
