"""The WAF simulator: one test per statement kind, action and rule-group behaviour, written from
the examples of the AWS WAF developer guide and the WAFV2 API reference (each test names its
page), a Hypothesis property that rule order matters exactly as the semantics say, and the
unreachable-rule analysis (WAF-014)."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.model import Location
from policies.sources import Sources
from policies.tfeval import Unknown
from policies.tree import Tree
from policies.waf import FAMILY
from policies.waf.cases import default_namespaces
from policies.waf.model import IpSet, RegexSet, WafInventory, WafRule, WebAcl
from policies.waf.reach import always, implies, starved, unreachable
from policies.waf.request import Request
from policies.waf.simulator import Simulator
from tests.helpers import FIXTURES

API = "https://docs.aws.amazon.com/waf/latest/APIReference/API_"
GUIDE = "https://docs.aws.amazon.com/waf/latest/developerguide/"
CRS = "awswaf:managed:aws:core-rule-set:"


def field(kind: str, **spec) -> list:
    return [{kind: [spec]}]


def tt(*types: str) -> list:
    return [{"priority": i, "type": kind} for i, kind in enumerate(types or ("NONE",))]


def byte(search: str, where: str, on: list | None = None, *types: str) -> dict:
    return {
        "byte_match_statement": [
            {
                "search_string": search,
                "positional_constraint": where,
                "field_to_match": on or field("uri_path"),
                "text_transformation": tt(*types),
            }
        ]
    }


def size(op: str, n: int, on: list | None = None, *types: str) -> dict:
    body = {"comparison_operator": op, "size": n, "field_to_match": on or field("uri_path")}
    return {"size_constraint_statement": [{**body, "text_transformation": tt(*types)}]}


def compound(kind: str, *statements: dict) -> dict:
    return {kind: [{"statement": list(statements)}]}


def rule(name: str, priority: int, statement: dict, action: str | None = "block", **kw) -> WafRule:
    return WafRule(
        name,
        priority,
        action,
        kw.pop("override_action", None),
        statement,
        kw.pop("labels", []),
        Location(resource=name),
        **kw,
    )


def managed(name: str, priority: int, group: str, override="none", **body) -> WafRule:
    statement = {"managed_rule_group_statement": [{"name": group, "vendor_name": "AWS", **body}]}
    return rule(name, priority, statement, None, override_action=override)


def acl(*rules: WafRule, default="allow", scope="REGIONAL", **kw) -> WebAcl:
    return WebAcl("test-waf", scope, default, list(rules), Location(resource="test-waf"), **kw)


def verdict(web_acl: WebAcl, request: Request, inventory=None, **kw):
    return Simulator(web_acl, inventory, default_namespaces()).evaluate(request, **kw)


def matches(statement: dict, request: Request, inventory=None) -> bool | None:
    found = verdict(acl(rule("R", 0, statement)), request, inventory)
    return found.rules[0].matched


# --- byte match ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "search", "value", "expected"),
    [  # API ByteMatchStatement: PositionalConstraint, and the CONTAINS_WORD examples
        ("EXACTLY", "/images/daily-ad.jpg", "/images/daily-ad.jpg", True),
        ("EXACTLY", "/images/daily-ad.jpg", "/images/daily-ad.jpg2", False),
        ("STARTS_WITH", "/images/", "/images/daily-ad.jpg", True),
        ("ENDS_WITH", ".jpg", "/images/daily-ad.jpg", True),
        ("CONTAINS", "daily", "/images/daily-ad.jpg", True),
        ("CONTAINS_WORD", "BadBot", ";BadBot", True),
        ("CONTAINS_WORD", "BadBot", "BadBot;", True),
        ("CONTAINS_WORD", "BadBot", "-BadBot;", True),
        ("CONTAINS_WORD", "BadBot", "BadBots", False),
        ("CONTAINS_WORD", "BadBot", "a_BadBot", False),
        ("CONTAINS", "badbot", "BadBot", False),  # "the value is case sensitive"
    ],
)
def test_byte_match_positional_constraints(where, search, value, expected):
    # API_ByteMatchStatement
    header = field("single_header", name="User-Agent")
    request = Request.of(uri=value, headers={"user-agent": value})
    assert matches(byte(search, where), request) is expected
    assert matches(byte(search, where, header), request) is expected  # header, any case


def test_byte_match_inspects_after_the_transformations():
    # GUIDE waf-rule-statement-transformation: transformations apply before inspection
    statement = byte("<script>", "CONTAINS", field("query_string"), "URL_DECODE", "LOWERCASE")
    found = verdict(acl(rule("R", 0, statement)), Request.of(uri="/s?q=%3CSCRIPT%3E"))
    step = found.rules[0].steps[0]
    assert (step.result, step.field, step.transformations) == (
        True,
        "query_string",
        ("URL_DECODE", "LOWERCASE"),
    )
    assert step.value == "q=<script>"


def test_the_uri_splits_at_the_first_question_mark_without_decoding():
    # Knowledge center "waf-exclude-specific-requests-inspection": in
    # /path/string1?xss=%3Cscript%3E%3Cscript%3E&sql=UNION%20ALL%20SELECT%201 the URI path is
    # /path/string1 and the query string what follows the question mark.
    request = Request.of(
        uri="/path/string1?xss=%3Cscript%3E%3Cscript%3E&sql=UNION%20ALL%20SELECT%201"
    )
    assert request.path == "/path/string1"
    assert matches(byte("xss=%3Cscript%3E", "STARTS_WITH", field("query_string")), request)
    arg = field("single_query_argument", name="SQL")  # "The name isn't case sensitive"
    assert matches(byte("UNION%20ALL", "STARTS_WITH", arg), request)  # API_SingleQueryArgument
    values = field("all_query_arguments")
    assert matches(byte("UNION ALL", "CONTAINS", values, "URL_DECODE"), request)


def test_method_and_absent_components():
    # API_FieldToMatch example: "Method": { "Name": "DELETE" } inspects the HTTP method
    assert matches(byte("DELETE", "EXACTLY", field("method")), Request.of("DELETE"))
    missing = field("single_header", name="x-api-key")
    assert matches(byte("k", "CONTAINS", missing), Request.of()) is False


def test_headers_and_cookies_match_scope_and_pattern():
    # API_Headers: MatchScope ALL matches in the keys or the values; API_HeaderMatchPattern
    request = Request.of(headers={"X-Debug": "on", "Cookie": "session=abc; theme=dark"})
    keys = field("headers", match_pattern=[{"all": [{}]}], match_scope="KEY")
    assert matches(byte("x-debug", "EXACTLY", keys, "LOWERCASE"), request)
    values = field(
        "headers", match_pattern=[{"excluded_headers": ["x-debug"]}], match_scope="VALUE"
    )
    assert matches(byte("on", "EXACTLY", values), request) is False
    cookies = field("cookies", match_pattern=[{"included_cookies": ["theme"]}], match_scope="VALUE")
    assert matches(byte("dark", "EXACTLY", cookies), request)
    assert matches(byte("abc", "EXACTLY", cookies), request) is False


def test_json_body_keys_values_paths_and_invalid_fallback():
    # API_JsonBody: "MatchPattern": {"All": {}}, "MatchScope": "ALL"; InvalidFallbackBehavior
    body = b'{"user": {"name": "admin", "roles": ["root"]}, "n": 1}'
    request = Request.of("POST", "/login", body=body)
    everything = field("json_body", match_pattern=[{"all": [{}]}], match_scope="ALL")
    assert matches(byte("roles", "EXACTLY", everything), request)
    assert matches(byte("root", "EXACTLY", everything), request)
    name_only = field(
        "json_body", match_pattern=[{"included_paths": ["/user/name"]}], match_scope="VALUE"
    )
    assert matches(byte("admin", "EXACTLY", name_only), request)
    assert matches(byte("root", "EXACTLY", name_only), request) is False
    broken = Request.of("POST", "/login", body=b'{"user": ')
    as_text = field("json_body", match_pattern=[{"all": [{}]}], match_scope="ALL",
                    invalid_fallback_behavior="EVALUATE_AS_STRING")  # fmt: skip
    assert matches(byte('{"user"', "STARTS_WITH", as_text), broken)
    assert matches(byte("x", "CONTAINS", everything), broken) is None  # AWS: partial parse


def test_body_oversize_handling():
    # API_Body: ALB forwards the first 8 KB (CloudFront 16 KB); OversizeHandling CONTINUE
    # inspects what was forwarded, MATCH and NO_MATCH decide.
    request = Request.of("POST", "/", body=b"a" * 9000 + b"EVIL")
    for handling, expected in (("CONTINUE", False), ("MATCH", True), ("NO_MATCH", False)):
        body = field("body", oversize_handling=handling)
        assert matches(byte("EVIL", "CONTAINS", body), request) is expected
    cloudfront = acl(rule("R", 0, byte("EVIL", "CONTAINS", field("body"))), scope="CLOUDFRONT")
    assert verdict(cloudfront, request).action == "block"


def test_ja3_fingerprints_are_undecidable():  # API_FieldToMatch JA3Fingerprint: TLS data
    statement = byte("abc", "EXACTLY", field("ja3_fingerprint", fallback_behavior="NO_MATCH"))
    found = verdict(acl(rule("R", 0, statement)), Request.of())
    assert found.rules[0].matched is None and not found.decided


# --- regex, size, geo, IP sets, labels, logic ---------------------------------------------------


def test_regex_match_and_regex_pattern_set():
    # GUIDE waf-rule-statement-type-regex-match / regex-pattern-set-match
    regex = {"regex_match_statement": [
        {"regex_string": r"^/images/.*\.jpg$", "field_to_match": field("uri_path"),
         "text_transformation": tt()}
    ]}  # fmt: skip
    assert matches(regex, Request.of(uri="/images/daily-ad.jpg"))
    assert matches(regex, Request.of(uri="/images/daily-ad.png")) is False
    inventory = WafInventory(
        regex_sets={"arn:set": RegexSet("bots", "arn:set", ["sqlmap", "nikto"], Location())}
    )
    reference = {"regex_pattern_set_reference_statement": [
        {"arn": "arn:set", "field_to_match": field("single_header", name="user-agent"),
         "text_transformation": tt("LOWERCASE")}
    ]}  # fmt: skip
    assert matches(reference, Request.of(headers={"User-Agent": "Nikto/2.5"}), inventory)
    assert matches(reference, Request.of(headers={"User-Agent": "curl"}), WafInventory()) is None


def test_size_constraint_counts_bytes_of_the_uri_path():
    # API_SizeConstraintStatement: "the URI /logo.jpg is nine characters long"
    request = Request.of(uri="/logo.jpg")
    assert matches(size("EQ", 9), request)
    assert matches(size("GT", 9), request) is False
    assert matches(size("LE", 9), request) and matches(size("NE", 8), request)
    # an oversized body counts up to the 8 KB WAF receives (size constraint guide)
    big = Request.of("POST", "/", body=b"x" * 20000)
    assert matches(size("GT", 8192, field("body", oversize_handling="CONTINUE")), big) is False
    assert matches(size("GT", 8192, field("body", oversize_handling="MATCH")), big)


def test_geo_match_matches_the_country_and_labels_every_inspected_request():
    # API_GeoMatchStatement: awswaf:clientip:geo:country:<ISO country code> on every request
    # it inspects; without a country (no GeoIP here) it does not match.
    geo = {"geo_match_statement": [{"country_codes": ["CN", "RU"]}]}
    found = verdict(acl(rule("Geo", 0, geo)), Request.of(country="US"))
    assert found.action == "allow" and "awswaf:clientip:geo:country:US" in found.labels
    assert verdict(acl(rule("Geo", 0, geo)), Request.of(country="RU")).rule == "Geo"
    assert matches(geo, Request.of()) is False
    forwarded = {"geo_match_statement": [{"country_codes": ["RU"], "forwarded_ip_config": [
        {"header_name": "X-Forwarded-For", "fallback_behavior": "MATCH"}]}]}  # fmt: skip
    assert matches(forwarded, Request.of(country="RU")) is False  # header absent: not applied
    garbled = Request.of(headers={"x-forwarded-for": "unknown"}, country="US")
    assert matches(forwarded, garbled)  # no valid IP: the fallback


IPS = WafInventory(
    ip_sets={
        "arn:v4": IpSet("v4", "arn:v4", "IPV4", ["10.1.1.0/24", "192.0.2.44/32"], Location()),
        "arn:v6": IpSet("v6", "arn:v6", "IPV6", ["2001:db8::/32"], Location()),
    }
)


def ip_statement(arn: str, **config) -> dict:
    body: dict = {"arn": arn}
    if config:
        body["ip_set_forwarded_ip_config"] = [{"header_name": "X-Forwarded-For", **config}]
    return {"ip_set_reference_statement": [body]}


def test_ip_set_reference_cidrs_v4_and_v6():  # GUIDE waf-rule-statement-type-ipset-match
    assert matches(ip_statement("arn:v4"), Request.of(ip="10.1.1.200"), IPS)
    assert matches(ip_statement("arn:v4"), Request.of(ip="10.1.2.1"), IPS) is False
    assert matches(ip_statement("arn:v6"), Request.of(ip="2001:db8::7"), IPS)
    assert matches(ip_statement("arn:v6"), Request.of(ip="10.1.1.1"), IPS) is False
    assert matches(ip_statement("arn:v4"), Request.of(), IPS) is None  # no ip: undecidable


@pytest.mark.parametrize(
    ("position", "expected"), [("FIRST", True), ("LAST", False), ("ANY", True)]
)
def test_ip_set_forwarded_ip_position(position, expected):
    # API_IPSetForwardedIPConfig: "10.1.1.1, 127.0.0.0, 10.10.10.10": the first address is the
    # original client, the rest proxies.
    request = Request.of(headers={"X-Forwarded-For": "10.1.1.1, 127.0.0.0, 10.10.10.10"})
    statement = ip_statement("arn:v4", position=position, fallback_behavior="NO_MATCH")
    assert matches(statement, request, IPS) is expected


def test_label_match_label_and_namespace_scopes():
    # API_LabelMatchStatement: LABEL the name with any preceding namespaces; NAMESPACE the
    # namespace; a key that is not fully qualified matches labels of the same context.
    emitter = rule("Tag", 0, byte("/admin", "STARTS_WITH"), "count", labels=["NS1:NS2:name"])

    def label(scope: str, key: str) -> WafRule:
        return rule("Use", 1, {"label_match_statement": [{"scope": scope, "key": key}]})

    request = Request.of(uri="/admin")
    assert verdict(acl(emitter, label("LABEL", "NS1:NS2:name")), request).rule == "Use"
    assert verdict(acl(emitter, label("NAMESPACE", "NS1:NS2:")), request).rule == "Use"
    assert verdict(acl(emitter, label("NAMESPACE", "NS1")), request).rule == "Use"
    qualified = "awswaf:<account>:webacl:test-waf:NS1:NS2:name"
    assert verdict(acl(emitter, label("LABEL", qualified)), request).rule == "Use"
    assert verdict(acl(emitter, label("LABEL", "ns1:ns2:name")), request).rule == "default"
    late = rule("Tag", 2, byte("/admin", "STARTS_WITH"), "count", labels=["NS1:NS2:name"])
    assert verdict(acl(late, label("LABEL", "NS1:NS2:name")), request).rule == "default"


def test_and_or_not_are_three_valued():
    # GUIDE waf-rule-statements-logical; an undecidable branch does not hide a decided one
    opaque = {
        "sqli_match_statement": [{"field_to_match": field("body"), "text_transformation": tt()}]
    }
    hit, miss = byte("/a", "STARTS_WITH"), byte("/zzz", "STARTS_WITH")
    request = Request.of(uri="/a")
    assert matches(compound("and_statement", hit, compound("not_statement", miss)), request)
    assert matches(compound("or_statement", opaque, hit), request) is True
    assert matches(compound("and_statement", opaque, miss), request) is False
    assert matches(compound("and_statement", opaque, hit), request) is None


def test_sqli_and_xss_are_opaque_unless_the_case_declares_them():
    # GUIDE waf-rule-statement-type-sqli-match: AWS does not publish the detection
    query, decoded = field("query_string"), tt("URL_DECODE")
    sqli = {"sqli_match_statement": [{"field_to_match": query, "text_transformation": decoded}]}
    web_acl = acl(rule("SQLi", 0, sqli))
    request = Request.of(uri="/?id=1%27%20OR%201=1")
    assert not verdict(web_acl, request).decided
    assert verdict(web_acl, request, opaque={"SQLi": True}).rule == "SQLi"
    assert verdict(web_acl, request, opaque={"SQLi": False}).rule == "default"


# --- actions and rule groups --------------------------------------------------------------------


def test_terminating_actions_and_their_status_codes():
    # API_CaptchaAction: 405 without a valid token; API_ChallengeAction: 202; API_BlockAction
    # with a custom response code; a Count continues.
    everything = size("GE", 0)
    for action, status in (("block", 403), ("captcha", 405), ("challenge", 202), ("allow", 200)):
        found = verdict(acl(rule("R", 0, everything, action)), Request.of())
        assert (found.action, found.rule, found.status) == (action, "R", status)
    custom = rule("R", 0, everything, action_body={"custom_response": [{"response_code": 429}]})
    assert verdict(acl(custom), Request.of()).status == 429
    counted = verdict(acl(rule("C", 0, everything, "count"), default="block"), Request.of())
    assert (counted.counted, counted.rule, counted.action, counted.status) == (
        ["C"],
        "default",
        "block",
        403,
    )


def test_managed_group_labels_overrides_and_count():
    # GUIDE aws-managed-rule-groups-baseline (CRS labels), API_RuleActionOverride (count keeps
    # the label and the group goes on), API_OverrideAction (count: the group's result counts).
    override = [{"name": "SizeRestrictions_BODY", "action_to_use": [{"count": [{}]}]}]
    crs = managed("Core", 0, "AWSManagedRulesCommonRuleSet", rule_action_override=override)
    request = Request.of("POST", "/", body=b"x" * 9000)
    declared = {"AWSManagedRulesCommonRuleSet": ["SizeRestrictions_BODY"]}
    found = verdict(acl(crs), request, managed=declared)
    assert found.rule == "default" and CRS + "SizeRestrictions_Body" in found.labels
    assert found.counted == ["Core:SizeRestrictions_BODY"]
    blocking = managed("Core", 0, "AWSManagedRulesCommonRuleSet")
    assert verdict(acl(blocking), request, managed=declared).rule == "Core"
    counting = managed("Core", 0, "AWSManagedRulesCommonRuleSet", override="count")
    found = verdict(acl(counting), request, managed=declared)
    assert found.rule == "default" and found.counted == ["Core"]
    assert verdict(acl(blocking), request, managed={"Core": []}).rule == "default"  # declared


def test_managed_group_scope_down_and_opaque_groups():
    # API_ManagedRuleGroupStatement ScopeDownStatement: only matching requests are evaluated
    scoped = managed(
        "SQLi", 0, "AWSManagedRulesSQLiRuleSet", scope_down_statement=[byte("/api", "STARTS_WITH")]
    )
    declared = {"AWSManagedRulesSQLiRuleSet": ["SQLi_BODY"]}
    assert verdict(acl(scoped), Request.of(uri="/api/x"), managed=declared).rule == "SQLi"
    assert verdict(acl(scoped), Request.of(uri="/static"), managed=declared).rule == "default"
    undeclared = verdict(acl(scoped), Request.of(uri="/api/x"))
    assert not undeclared.decided and "AWSManagedRulesSQLiRuleSet" in undeclared.undecidable[0]


def test_documented_core_rule_set_triggers_when_undeclared():
    # GUIDE aws-managed-rule-groups-baseline: NoUserAgent_HEADER (missing User-Agent),
    # SizeRestrictions_QUERYSTRING (> 2,048 bytes), SizeRestrictions_BODY (> 8 KB)
    crs = acl(managed("Core", 0, "AWSManagedRulesCommonRuleSet"))
    assert verdict(crs, Request.of()).rule == "Core"
    found = verdict(crs, Request.of(uri="/?" + "q" * 2049, headers={"User-Agent": "x"}))
    assert found.rule == "Core" and CRS + "SizeRestrictions_QueryString" in found.labels
    fine = verdict(crs, Request.of(uri="/", headers={"User-Agent": "x"}, body=b"x" * 8192))
    assert fine.rule == "default" and fine.decided and fine.assumed


def test_rate_based_aggregation_keys():
    # API_RateBasedStatement example: (10.1.1.1, POST), (10.1.1.1, GET), (127.0.0.0, POST),
    # (10.1.1.1, GET): by IP 10.1.1.1 counts 3; by IP and method (10.1.1.1, GET) counts 2.
    sent = [("10.1.1.1", "POST"), ("10.1.1.1", "GET"), ("127.0.0.0", "POST"), ("10.1.1.1", "GET")]

    def last(statement: dict) -> tuple[str, str]:
        simulator = Simulator(acl(rule("Rate", 0, {"rate_based_statement": [statement]})))
        found = [simulator.evaluate(Request.of(m, ip=ip), at=i) for i, (ip, m) in enumerate(sent)]
        return found[-1].rule, found[-1].rules[0].steps[-1].detail

    by_ip = last({"limit": 2, "aggregate_key_type": "IP"})
    assert by_ip[0] == "Rate" and by_ip[1].startswith("3 requests")
    keys = [{"ip": [{}]}, {"http_method": [{}]}]
    by_pair = last({"limit": 2, "aggregate_key_type": "CUSTOM_KEYS", "custom_key": keys})
    assert by_pair[0] == "default" and by_pair[1].startswith("2 requests")


def test_rate_based_window_and_scope_down():
    # API_RateBasedStatement EvaluationWindowSec (default 300) and ScopeDownStatement
    statement = {"limit": 3, "aggregate_key_type": "IP", "evaluation_window_sec": 60,
                 "scope_down_statement": [byte("/login", "STARTS_WITH")]}  # fmt: skip
    simulator = Simulator(acl(rule("Rate", 0, {"rate_based_statement": [statement]})))
    login = Request.of("POST", "/login", ip="198.51.100.9")
    assert [simulator.evaluate(login, at=t).rule for t in (0, 1, 2, 3)][-1] == "Rate"
    assert simulator.evaluate(Request.of("GET", "/", ip="198.51.100.9"), at=4).rule == "default"
    assert simulator.evaluate(login, at=70).rule == "default"  # the window moved on


RATE_RULE = st.tuples(
    st.integers(1, 40),  # limit
    st.sampled_from([30, 60, 300]),  # evaluation window
    st.sampled_from(["block", "count", "captcha"]),
    st.sampled_from(["/", "/login", None]),  # scope-down path prefix
)


@settings(max_examples=150, deadline=None)
@given(
    rates=st.lists(RATE_RULE, min_size=1, max_size=3),
    count=st.integers(1, 120),
    within=st.sampled_from([0, 5, 45, 100, 900]),
    path=st.sampled_from(["/", "/login/x"]),
)
def test_repeated_requests_end_as_when_each_is_evaluated(rates, count, within, path):
    # A case's `repeat`: evaluate_repeated skips copies whose rate rules decide as before; the
    # last copy's verdict (trace and counts included) equals that of evaluating every copy.
    def simulator() -> Simulator:
        rules = []
        for i, (limit, window, action, scope) in enumerate(rates):
            statement = {
                "limit": limit,
                "aggregate_key_type": "IP",
                "evaluation_window_sec": window,
            }
            if scope:
                statement["scope_down_statement"] = [byte(scope, "STARTS_WITH")]
            rules.append(rule(f"Rate{i}", i, {"rate_based_statement": [statement]}, action))
        return Simulator(acl(*rules))

    request = Request.of("POST", path, ip="198.51.100.7")
    each = simulator()
    verdicts = [each.evaluate(request, i * within / count) for i in range(count)]
    assert simulator().evaluate_repeated(request, count, within) == verdicts[-1]


def test_unknown_values_are_undecidable_never_guessed():
    unknown = Unknown("required variable without a value", "var.prefix")
    found = verdict(acl(rule("R", 0, byte(unknown, "STARTS_WITH"))), Request.of(uri="/x"))
    assert not found.decided and "var.prefix" in found.undecidable[0]


# --- rule order ---------------------------------------------------------------------------------

PATHS = st.text(alphabet="/ab", min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(prefix=PATHS, word=st.text(alphabet="ab", min_size=1, max_size=3), path=PATHS)
def test_swapping_two_terminating_rules_changes_the_verdict_only_in_their_overlap(
    prefix, word, path
):
    # GUIDE "How AWS WAF processes a web request": rules in priority order, the first
    # terminating match decides.
    block = byte(prefix, "STARTS_WITH")
    captcha = byte(word, "CONTAINS")
    first = acl(rule("A", 0, block, "block"), rule("B", 1, captcha, "captcha"))
    second = acl(rule("B", 0, captcha, "captcha"), rule("A", 1, block, "block"))
    request = Request.of(uri=path)
    one, two = verdict(first, request), verdict(second, request)
    in_a, in_b = path.startswith(prefix), word in path
    assert (one.rule != two.rule) == (in_a and in_b)
    expected = "A" if in_a else "B" if in_b else "default"
    assert one.rule == expected


# --- the static tree: IP sets and regex pattern sets resolved through Terraform ------------------


def test_static_reader_resolves_ip_sets_and_regex_sets():
    tree = FIXTURES / "waf" / "good" / "narrow-before-broad"
    inventory = FAMILY.read(Tree(Sources(tree)))
    assert sorted(s.name for s in inventory.ip_sets.values()) == ["test-abuse", "test-hosting"]
    assert [s.name for s in inventory.regex_sets.values()] == ["test-scanners"]
    declared = {g: [] for g in ("AWSManagedRulesAmazonIpReputationList",
                                "AWSManagedRulesSQLiRuleSet",
                                "AWSManagedRulesKnownBadInputsRuleSet")}  # fmt: skip
    simulator = Simulator(inventory.acls[0], inventory, default_namespaces())
    ua = {"User-Agent": "Mozilla/5.0"}
    for request, rule_name, status in (
        (Request.of(headers={"User-Agent": "sqlmap/1.7"}, ip="203.0.113.1"), "BlockScanners", 403),
        (Request.of(headers=ua, ip="198.51.101.70"), "BlockAbuseRange", 403),
        (Request.of(headers=ua, ip="198.51.100.7"), "BlockHostingRanges", 403),
        (Request.of(headers=ua, ip="203.0.113.1", country="KP"), "ChallengeHighRisk", 202),
        (Request.of(uri="/wp-admin/install.php", headers=ua, ip="203.0.113.1"),
         "HideWordPressInstaller", 404),
    ):  # fmt: skip
        found = simulator.evaluate(request, managed=declared)
        assert (found.rule, found.status) == (rule_name, status), found.render()


# --- unreachable rules (WAF-014) ----------------------------------------------------------------

UNDER_A = byte("/a", "STARTS_WITH")


@pytest.mark.parametrize(
    ("later", "earlier"),
    [
        (byte("/api/v1", "STARTS_WITH"), byte("/api", "STARTS_WITH")),
        (byte("/api/v1", "EXACTLY"), byte("v1", "ENDS_WITH")),
        (byte("/x/admin/y", "CONTAINS"), byte("admin", "CONTAINS_WORD")),
        (size("GT", 100), size("GE", 50)),
        (compound("and_statement", UNDER_A, size("LT", 9)), UNDER_A),
        (UNDER_A, compound("or_statement", byte("/b", "STARTS_WITH"), UNDER_A)),
        ({"geo_match_statement": [{"country_codes": ["KP"]}]},
         {"geo_match_statement": [{"country_codes": ["CN", "KP"]}]}),
    ],
)  # fmt: skip
def test_a_narrower_condition_is_implied(later, earlier):
    assert implies(later, earlier, WafInventory())


@pytest.mark.parametrize(
    ("later", "earlier"),
    [
        (byte("/api", "STARTS_WITH"), byte("/api/v1", "STARTS_WITH")),
        (byte("/API/v1", "STARTS_WITH"), byte("/api", "STARTS_WITH", None, "LOWERCASE")),
        (byte("/x/admin_y", "CONTAINS"), byte("admin", "CONTAINS_WORD")),
        (byte("/a", "STARTS_WITH", field("query_string")), byte("/a", "STARTS_WITH")),
        (size("GE", 50), size("GT", 100)),
        (byte(Unknown("x", "var.p"), "STARTS_WITH"), byte(Unknown("x", "var.p"), "STARTS_WITH")),
    ],
)  # fmt: skip
def test_an_overlapping_or_unknown_condition_is_not_implied(later, earlier):
    assert not implies(later, earlier, WafInventory())


def test_ip_set_subsets_and_unconditional_rules():
    inventory = WafInventory(ip_sets={
        "wide": IpSet("wide", "wide", "IPV4", ["198.51.100.0/22"], Location()),
        "narrow": IpSet("narrow", "narrow", "IPV4", ["198.51.101.64/26"], Location()),
    })  # fmt: skip
    assert implies(ip_statement("narrow"), ip_statement("wide"), inventory)
    assert not implies(ip_statement("wide"), ip_statement("narrow"), inventory)
    assert always(size("GE", 0)) and always(compound("not_statement", size("LT", 0)))
    assert not always(size("GE", 0, field("single_header", name="host")))
    web_acl = acl(rule("All", 0, size("GE", 0), "allow"), rule("Later", 1, byte("/", "CONTAINS")))
    assert [(r.name, e.name) for r, e, _ in unreachable(web_acl, inventory)] == [("Later", "All")]


def test_a_label_only_terminated_requests_carry_starves_its_consumer():
    label = {"label_match_statement": [{"scope": "LABEL", "key": CRS + "SizeRestrictions_Body"}]}
    blocking = managed("Core", 0, "AWSManagedRulesCommonRuleSet")
    consumer = rule("Oversized", 1, label)
    assert [r.name for r, _, _ in starved(acl(blocking, consumer), default_namespaces())] == [
        "Oversized"
    ]
    override = [{"name": "SizeRestrictions_BODY", "action_to_use": [{"count": [{}]}]}]
    counting = managed("Core", 0, "AWSManagedRulesCommonRuleSet", rule_action_override=override)
    assert not list(starved(acl(counting, consumer), default_namespaces()))


# --- hostile shapes -----------------------------------------------------------------------------

JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5) | st.sampled_from(
        ["byte_match_statement", "and_statement", "not_statement", "field_to_match", "uri_path",
         "statement", "STARTS_WITH", "LABEL", "search_string", "positional_constraint"]
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["byte_match_statement", "and_statement", "not_statement", "statement",
                         "field_to_match", "uri_path", "search_string", "positional_constraint",
                         "text_transformation", "label_match_statement", "size", "key",
                         "size_constraint_statement", "geo_match_statement", "scope",
                         "rate_based_statement"]),
        inner, max_size=3),
    max_leaves=12,
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(JUNK, JUNK)
def test_wrong_shapes_never_raise(first, second):
    statements = [s if isinstance(s, dict) else {"x": s} for s in (first, second)]
    web_acl = acl(rule("A", 0, statements[0]), rule("B", 1, statements[1], "count"))
    found = verdict(web_acl, Request.of(uri="/a?b=c", body=b"{}"))
    assert found.rule in ("A", "default")
    list(unreachable(web_acl, WafInventory()))
    list(starved(web_acl, default_namespaces()))


def test_ip_set_addresses_only_apply_knows_are_undecidable(tmp_path: Path):
    (tmp_path / "main.tf").write_text(
        'variable "blocked" {\n  type = list(string)\n}\n'
        'resource "aws_wafv2_ip_set" "blocked" {\n  name = "blocked"\n'
        "  addresses = var.blocked\n}\n"
    )
    inventory = FAMILY.read(Tree(Sources(tmp_path)))
    (ip_set,) = inventory.ip_sets.values()
    statement = {"ip_set_reference_statement": [{"arn": "x", "__ref__": ip_set.key}]}
    assert matches(statement, Request.of(ip="192.0.2.1"), inventory) is None


def test_the_live_reader_lists_ip_sets_regex_sets_and_custom_responses(monkeypatch):
    # ListIPSets/GetIPSet, ListRegexPatternSets/GetRegexPatternSet, BlockAction CustomResponse
    from moto import mock_aws

    from policies.targets.aws import AwsTarget
    from policies.waf.live import read_live

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    seen = {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "m"}
    with mock_aws():
        target = AwsTarget(None)
        wafv2 = target.client("wafv2")
        ip_set = wafv2.create_ip_set(
            Name="blocked", Scope="REGIONAL", IPAddressVersion="IPV6", Addresses=["2001:db8::/32"]
        )["Summary"]
        wafv2.create_web_acl(
            Name="acl",
            Scope="REGIONAL",
            DefaultAction={"Allow": {}},
            VisibilityConfig=seen,
            Rules=[{
                "Name": "Blocked", "Priority": 0, "VisibilityConfig": seen,
                "Action": {"Block": {"CustomResponse": {"ResponseCode": 429}}},
                "Statement": {"IPSetReferenceStatement": {"ARN": ip_set["ARN"]}},
            }],
        )  # fmt: skip
        inventory = read_live(target)
    (web_acl,) = inventory.acls
    found = Simulator(web_acl, inventory).evaluate(Request.of(ip="2001:db8::1"))
    assert (found.rule, found.status) == ("Blocked", 429)
    assert Simulator(web_acl, inventory).evaluate(Request.of(ip="192.0.2.1")).rule == "default"
