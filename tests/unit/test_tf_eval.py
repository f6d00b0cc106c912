"""The Terraform evaluator: expressions as Terraform evaluates them (a table of cases), the
module-shaped fixtures read as their examples call them, and terraform itself as the oracle:
every root that `terraform init` and `plan` accept offline is planned against the local
endpoint and compared with the evaluator, attribute by attribute, for every attribute a policy
reads; a deliberately wrong evaluation (count ignored) is caught by the same comparison."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from policies.catalog import load_catalog
from policies.registry import all_checks, families
from policies.sources import Sources
from policies.targets.stack import (
    LOCAL_BACKEND,
    StackUnavailable,
    provider_block,
    start_moto,
    workspace,
)
from policies.terraform import load_project
from policies.tfeval import MORE, Attributes, Scope, Unknown, evaluate
from policies.tfplan import differences, project_from_plan
from policies.tree import Tree
from tests.helpers import FIXTURES, ROOT, run_suite

MODULES = FIXTURES / "modules"
CHECKS = all_checks()
SCOPE = Scope(
    variables={
        "on": True,
        "n": 3,
        "name": "shop",
        "nothing": None,
        "rules": [{"name": "a", "on": True}, {"name": "b", "on": False}],
        "tags": {"team": "web"},
    },
    local=lambda name: {"prefix": "shop-"}[name],
    reference=lambda parts: (
        [Attributes({"name": "acl"}, "aws_wafv2_web_acl.this[0]")]
        if parts[:2] == ["aws_wafv2_web_acl", "this"]
        else MORE
        if len(parts) < 2
        else Unknown("not declared", ".".join(map(str, parts)))
    ),
)
CASES = [
    ("${var.on ? 1 + 2 * 3 : 0}", 7),
    ("${var.n % 2 == 1 && !false}", True),
    ("pre-${var.name}-post", "pre-shop-post"),
    ("${local.prefix}api", "shop-api"),
    ("${[for r in var.rules : upper(r.name) if r.on]}", ["A"]),
    ("${{for r in var.rules : r.name => r.on}}", {"a": True, "b": False}),
    ("${var.rules[*].name}", ["a", "b"]),
    ('${lookup(var.tags, "owner", "nobody")}', "nobody"),
    ('${merge(var.tags, {"env": "dev"})}', {"team": "web", "env": "dev"}),
    ('${jsonencode({"b": [1, 2], "a": "<x>"})}', '{"a":"\\u003cx\\u003e","b":[1,2]}'),
    ('${jsondecode("{\\"a\\": 1}").a}', 1),
    ('${try(var.nothing.x, "fallback")}', "fallback"),
    ("${can(var.nothing.x)}", False),
    ('${coalesce(var.nothing, "", "x")}', "x"),
    ("${concat([1], [2, 3])}", [1, 2, 3]),
    ("${flatten([[1], [2, [3]]])}", [1, 2, 3]),
    ("${length(var.rules)}", 2),
    ("${element(var.rules, 3).name}", "b"),
    ('${contains(["a", "b"], "b")}', True),
    ("${distinct([1, 1, 2])}", [1, 2]),
    ('${compact(["a", "", null])}', ["a"]),
    ('${zipmap(["a", "b"], [1, 2])}', {"a": 1, "b": 2}),
    ("${keys({b = 1, a = 2})}", ["a", "b"]),
    ("${values({b = 1, a = 2})}", [2, 1]),
    ('${toset(["b", "a", "b"])}', ["a", "b"]),
    ('${format("%s-%03d", var.name, 7)}', "shop-007"),
    ('${join(",", ["a", "b"])}', "a,b"),
    ('${split(",", "a,b")}', ["a", "b"]),
    ('${replace("a-b-c", "-", "_")}', "a_b_c"),
    ('${replace("a1b22", "/[0-9]+/", "#")}', "a#b#"),
    ('${startswith("abc", "ab") && endswith("abc", "bc")}', True),
    ('${basename("modules/waf/main.tf")}', "main.tf"),
    ("${aws_wafv2_web_acl.this[0].name}", "acl"),
    ("$${literal}", "${literal}"),
]


@pytest.mark.parametrize(("expression", "value"), CASES, ids=[c[0] for c in CASES])
def test_expression(expression, value):
    assert evaluate(expression, SCOPE) == value


@pytest.mark.parametrize(
    ("expression", "why"),
    [
        ("${aws_wafv2_web_acl.this[0].arn}", "known after apply"),
        ("${var.missing}", "var.missing is not declared"),
        ("${no_such_function(1)}", "is not evaluated by the suite"),
        ('${var.on ? aws_wafv2_web_acl.this[0].arn : "x"}', "known after apply"),
    ],
)
def test_what_only_apply_knows_is_unknown_and_says_why(expression, why):
    value = evaluate(expression, SCOPE)
    assert isinstance(value, Unknown) and why in str(value)


def _repo(tmp_path, name):
    """A copy of a module-shaped fixture repository (with .git: its top level)."""
    repo = tmp_path / name
    shutil.copytree(MODULES / name, repo)
    (repo / ".git").mkdir()
    return repo


def _findings(tree, family, **options):
    inventory = families()[family].read(Tree(Sources(tree, **options)))
    return [
        f
        for p in load_catalog().values()
        if p.family == family and "static" in p.tiers and p.id in CHECKS
        for f in CHECKS[p.id](inventory, p)
    ]


def test_dynamic_rules_from_the_callers_list_are_checked_at_the_callers_line(tmp_path):
    repo = _repo(tmp_path, "waf-repo")
    found = _findings(repo / "examples" / "complete", "waf")
    located = {
        (f.policy_id, f.location.path.relative_to(repo).as_posix(), f.location.line) for f in found
    }
    # every WAF policy sees the rules: order, groups, rate limit (built by a dynamic block) pass;
    # the managed rule counted in the caller's list is reported at the caller's element, with
    # the module's dynamic block as the related location
    assert located == {
        ("WAF-006", "examples/complete/main.tf", 12),
        ("WAF-012", "examples/complete/main.tf", 12),
    }
    assert {(f.location.related.path.name, f.location.related.line) for f in found} == {
        ("main.tf", 24)
    }
    project = load_project(Sources(repo / "examples" / "complete"))
    assert project.outside == [repo / "modules" / "waf"]  # read above --infra, in the repo


def test_a_count_zero_instance_produces_nothing(tmp_path):
    repo = _repo(tmp_path, "waf-repo")
    assert load_project(Sources(repo / "examples" / "disabled")).resources == []


def test_rotation_of_a_for_each_secret_links_to_it(tmp_path):
    repo = _repo(tmp_path, "secrets-repo")
    found = _findings(repo / "examples" / "basic", "secrets")
    assert [(f.policy_id, f.resource.name) for f in found] == [("SEC-001", "shop/stripe")]


def test_null_alarm_actions_are_a_finding_not_a_crash(tmp_path):
    repo = _repo(tmp_path, "alarms-repo")
    found = _findings(repo / "examples" / "basic", "alarms")
    actions = [f for f in found if f.policy_id == "ALM-003"]
    # alarm_actions and ok_actions, each at its own line of the module (default = null)
    assert sorted((f.resource.name, f.location.line) for f in actions) == [
        ("shop-db-cpu", 34),
        ("shop-db-cpu", 35),
    ]


def test_a_module_above_the_repository_is_not_read(tmp_path):
    tree = tmp_path / "infra"
    shutil.copytree(MODULES / "waf-repo" / "examples" / "complete", tree)  # no .git anywhere
    project = load_project(Sources(tree))
    assert project.resources and not any(r.type == "aws_wafv2_web_acl" for r in project.resources)
    assert any("../../modules/waf" in n.message and "not read" in n.message for n in project.notes)


def _fetched(repo, how):
    """The complete example calling the WAF module from the registry, as `terraform init` leaves
    it: fetched into .terraform/modules (`how`: "copy"), a link out of it, or not fetched."""
    root = repo / "examples" / "complete"
    main = root / "main.tf"
    main.write_text(
        main.read_text().replace('source = "../../modules/waf"', 'source  = "acme/waf/aws"')
    )
    fetched = root / ".terraform" / "modules"
    fetched.mkdir(parents=True)
    if how == "copy":
        shutil.copytree(repo / "modules" / "waf", fetched / "waf")
    elif how == "link":
        (fetched / "waf").symlink_to(repo / "modules" / "waf")
    if how != "none":
        entries = [
            {"Key": "", "Source": "", "Dir": "."},
            {
                "Key": "waf",
                "Source": "registry.terraform.io/acme/waf/aws",
                "Dir": ".terraform/modules/waf",
            },
        ]
        (fetched / "modules.json").write_text(json.dumps({"Modules": entries}))
    return root


def test_a_registry_module_terraform_init_fetched_is_read_when_the_config_trusts_it(tmp_path):
    root = _fetched(_repo(tmp_path, "waf-repo"), "copy")
    project = load_project(Sources(root, read_fetched_modules=True))
    assert "module.waf.aws_wafv2_web_acl.this[0]" in {r.address for r in project.resources}
    assert project.notes == [] and project.outside == []
    found = _findings(root, "waf", read_fetched_modules=True)
    assert {f.policy_id for f in found} == {"WAF-006", "WAF-012"}


@pytest.mark.parametrize(
    ("how", "trusted", "why"),
    [
        ("none", True, "not fetched (no terraform init"),
        ("link", True, "reached through a link: not read"),
        ("copy", False, "not read from .terraform/modules (set read_fetched_modules = true"),
    ],
)
def test_a_registry_module_not_fetched_is_reported_not_read(tmp_path, how, trusted, why):
    """A committed .terraform/modules is a pull request's own stand-in for the module: read
    only when the configuration says the checkout's init is trusted."""
    root = _fetched(_repo(tmp_path, "waf-repo"), how)
    project = load_project(Sources(root, read_fetched_modules=trusted))
    assert not any(r.type == "aws_wafv2_web_acl" for r in project.resources)
    [note] = project.notes
    assert (note.path, note.line) == (root / "main.tf", 5)
    assert "module waf: source acme/waf/aws is not analysed" in note.message and why in note.message
    found = _findings(root, "sources", read_fetched_modules=trusted)
    assert [(f.policy_id, f.kind, f.location.line) for f in found] == [("SRC-005", "review", 5)]


def test_no_message_prints_python_values_or_unevaluated_text(tmp_path):
    for name, example in (
        ("waf-repo", "complete"),
        ("secrets-repo", "basic"),
        ("alarms-repo", "basic"),
    ):
        repo = _repo(tmp_path, name)
        family = name.split("-")[0]
        for f in _findings(repo / "examples" / example, family):
            text = f"{f.message} {f.expected} {f.actual}"
            assert "None" not in text and "${" not in text and "', '" not in text, text


# --- terraform as the oracle ----------------------------------------------------------------

ROOTS = [
    ("infra", ROOT / "infra", "terraform/envs/dev"),
    ("waf-repo/complete", MODULES / "waf-repo", "examples/complete"),
    ("waf-repo/disabled", MODULES / "waf-repo", "examples/disabled"),
    ("secrets-repo/basic", MODULES / "secrets-repo", "examples/basic"),
    ("alarms-repo/basic", MODULES / "alarms-repo", "examples/basic"),
    ("foreign/waf-module", FIXTURES / "foreign" / "waf-module", "."),
    ("foreign/waf-module-good", FIXTURES / "foreign" / "waf-module-good", "."),
]
# Fixture trees terraform cannot plan: how it refuses (read: init fails on what the suite
# cannot read or parse either; provider: a provider not in the mirror; init: a module it
# cannot fetch offline; validate: terraform validate rejects it) and why. The suite must
# report the same blocks.
NOT_PLANNED = {
    "malformed": ("read", "SRC-001's cases"),
    "sources/bad/SRC-001": ("read", "SRC-001's case"),
    "sources/bad/SRC-002": ("read", "a link out of the tree: SRC-002's case"),
    "sources/bad/SRC-005.unevaluated": ("init", "a registry module (SRC-005's case)"),
    "secrets/bad/SEC-005": ("provider", "hashicorp/random is SEC-005's case"),
    "seed/terraform/modules/secrets": ("provider", "the guide's module uses hashicorp/random"),
    "seed/terraform/modules/alarms": ("validate", "the guide's module: undeclared variables"),
    "seed/terraform/modules/waf": ("validate", "the guide's module: undeclared variables"),
    "waf/bad/WAF-006.excluded-rule": ("validate", "provider v4's excluded_rule: WAF-006's case"),
    "waf/bad/WAF-009": ("validate", "provider v4's s3_configuration: WAF-009's case"),
    "waf/bad/WAF-009.missing-role": ("validate", "an undeclared role: WAF-009's case"),
}


def _fixture_trees():
    """The fixture directories holding Terraform of their own (the module-shaped repositories
    and the foreign trees are planned as ROOTS)."""
    found = {p.parent for p in FIXTURES.rglob("*.tf")}
    return sorted(
        d.relative_to(FIXTURES).as_posix()
        for d in found
        if d.relative_to(FIXTURES).parts[0] not in ("modules", "foreign")
    )


def _fixtures_copy(tmp_path):
    """The fixtures, less SRC-002's tree (links out of it), in a repository of their own."""
    copy = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, copy, ignore=shutil.ignore_patterns("SRC-002"))
    (copy / ".git").mkdir()
    return copy


def _calling(copy, name, trees):
    """A root in the fixtures' copy calling each tree as a module: one init, one plan."""
    root = copy / name
    root.mkdir()
    (root / "main.tf").write_text(
        "".join(f'module "t{i}" {{\n  source = "../{t}"\n}}\n\n' for i, t in enumerate(trees))
    )
    return root


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    try:
        stack = start_moto(tmp_path_factory.mktemp("moto"))
    except StackUnavailable as exc:
        pytest.skip(str(exc))
    yield stack.endpoint
    stack.stop()


def plan(repo, root, endpoint, tmp_path, *options):
    """terraform's plan of a root (against the local endpoint), as `show -json` gives it."""
    try:
        ws = workspace(repo, tmp_path / "work")
    except StackUnavailable as exc:
        pytest.skip(str(exc))
    where = ws.copy / root
    override = LOCAL_BACKEND + provider_block(endpoint, "")
    (where / "zz_pingvas_local_override.tf").write_text(override)
    for args in (
        ["init", "-no-color"],
        ["plan", "-refresh=false", "-no-color", "-out=plan", *options],
    ):
        done = subprocess.run(
            [ws.terraform, *args],
            cwd=where,
            env=ws.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-2000:]
    shown = subprocess.run(
        [ws.terraform, "show", "-json", "plan"],
        cwd=where,
        env=ws.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(shown.stdout)


@pytest.mark.parametrize(("label", "repo", "root"), ROOTS, ids=[r[0] for r in ROOTS])
def test_the_evaluator_agrees_with_terraform_plan(label, repo, root, endpoint, tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(repo, copy)
    (copy / ".git").mkdir(exist_ok=True)
    planned = plan(copy, root, endpoint, tmp_path)
    ours = load_project(Sources(copy / root))
    assert ours.resources or not planned.get("resource_changes")
    assert differences(ours, planned) == []


def test_a_wrong_evaluation_fails_the_comparison(endpoint, tmp_path, monkeypatch):
    from policies import terraform

    copy = tmp_path / "repo"
    shutil.copytree(MODULES / "waf-repo", copy)
    (copy / ".git").mkdir()
    planned = plan(copy, "examples/disabled", endpoint, tmp_path)
    monkeypatch.setattr(
        terraform._Instance, "_expand_instances", lambda self, body: [(None, self.scope)]
    )  # count ignored
    ours = load_project(Sources(copy / "examples" / "disabled"))
    assert any("made by the evaluator, not planned" in d for d in differences(ours, planned))


def test_policies_run_on_the_plan_given_with_tf_plan(endpoint, tmp_path):
    """A rate limit the configuration leaves to a variable is unverifiable statically; the
    plan's value (given at plan time) is judged, located at the configuration."""
    copy = tmp_path / "repo"
    shutil.copytree(MODULES / "waf-repo", copy)
    (copy / ".git").mkdir()
    root = copy / "examples" / "complete"
    main = root / "main.tf"
    main.write_text(
        'variable "rate_limit" {\n  type = number\n}\n\n'
        + main.read_text().replace("rate_limit = 800", "rate_limit = var.rate_limit")
    )
    statically = {(f.policy_id, f.kind) for f in _findings(root, "waf")}
    assert ("WAF-007", "review") in statically
    planned = plan(copy, "examples/complete", endpoint, tmp_path, "-var=rate_limit=50000")
    inventory = families()["waf"].read(Tree(Sources(root), planned))
    policy = load_catalog()["WAF-007"]
    [finding] = CHECKS["WAF-007"](inventory, policy)
    assert (finding.kind, finding.actual) == ("fail", "limit 50000")
    assert finding.location.path == copy / "modules" / "waf" / "main.tf"


def test_a_plan_keeps_sensitive_values_out(endpoint, tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(MODULES / "secrets-repo", copy)
    planned = plan(copy, "examples/basic", endpoint, tmp_path)
    for change in planned["resource_changes"]:
        change["change"]["after_sensitive"] = {"name": True}  # e.g. from a sensitive variable
    project = project_from_plan(planned, load_project(Sources(copy / "examples" / "basic")))
    names = [r.body["name"] for r in project.of_type("aws_secretsmanager_secret")]
    assert names and all(isinstance(n, Unknown) and "sensitive" in str(n) for n in names)


@pytest.mark.parametrize("content", ["{not json", '{"format_version": "1.2"}'])
def test_a_file_that_is_not_a_plan_is_one_usage_error(tmp_path, content):
    given = tmp_path / "plan.json"
    given.write_text(content)
    done = run_suite("-m", "static", "--infra", str(tmp_path), "--tf-plan", str(given))
    assert done.returncode == 4, done.stdout + done.stderr
    [line] = [x for x in done.stderr.splitlines() if x.strip()]
    assert line.startswith(f"ERROR: --tf-plan {given}: ") and "Traceback" not in done.stdout


def test_every_fixture_tree_is_planned_or_listed_with_a_reason():
    trees = _fixture_trees()
    assert set(NOT_PLANNED) <= set(trees)
    for tree, (how, _) in NOT_PLANNED.items():
        sources = Sources(FIXTURES / tree)
        project = load_project(sources)
        if how == "read":
            assert sources.check_all(), tree
        if how == "provider":
            assert any(not r.type.startswith("aws_") for r in project.resources), tree
        if how == "init":
            assert any("not fetched" in n.message for n in project.notes), tree


def test_the_evaluator_agrees_with_terraform_on_every_fixture_tree(endpoint, tmp_path):
    copy = _fixtures_copy(tmp_path)
    planned_trees = [t for t in _fixture_trees() if t not in NOT_PLANNED]
    root = _calling(copy, "parity", planned_trees)
    planned = plan(copy, "parity", endpoint, tmp_path)
    ours = load_project(Sources(root))
    assert len(ours.resources) > 100 and ours.notes == []
    assert differences(ours, planned) == []


def test_what_terraform_rejects_the_suite_reports_at_the_same_block(tmp_path):
    copy = _fixtures_copy(tmp_path)
    rejected = [t for t, (how, _) in NOT_PLANNED.items() if how == "validate"]
    others = [t for t in _fixture_trees() if t not in NOT_PLANNED]
    root = _calling(copy, "validate", rejected + others)
    try:
        ws = workspace(copy, tmp_path / "work")
    except StackUnavailable as exc:
        pytest.skip(str(exc))
    where = ws.copy / root.name
    subprocess.run(
        [ws.terraform, "init", "-backend=false", "-no-color"],
        cwd=where,
        env=ws.env,
        capture_output=True,
        timeout=600,
        check=True,
    )
    shown = subprocess.run(
        [ws.terraform, "validate", "-json", "-no-color"],
        cwd=where,
        env=ws.env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    places = {
        (
            Path(os.path.normpath(copy / root.name / d["range"]["filename"])),
            d["range"]["start"]["line"],
        )
        for d in json.loads(shown.stdout)["diagnostics"]
        if d["severity"] == "error"
    }
    assert {p.parent.relative_to(copy).as_posix() for p, _ in places} == set(rejected)
    for tree in rejected:
        project = load_project(Sources(copy / tree))
        reported = {
            (f.location.path, f.location.line)
            for family in families()
            if families()[family].read is not None
            for f in _findings(copy / tree, family)
        }
        for path, line in (p for p in places if p[0].parent == copy / tree):
            [block] = [
                r
                for r in project.resources
                if r.path == path and r.line <= line <= r.raw["__end_line__"]
            ]
            assert any(
                p == path and block.line <= n <= block.raw["__end_line__"] for p, n in reported
            ), f"{tree}: terraform rejects {path.name}:{line}, the suite reports nothing there"


def test_the_summary_lists_what_was_read_above_infra(tmp_path):
    repo = _repo(tmp_path, "waf-repo")
    reports = tmp_path / "reports"
    done = run_suite(
        *("-m", "static", "-n", "2", "-p", "no:cacheprovider"),
        *("--infra", str(repo / "examples" / "complete"), "--reports", str(reports)),
    )
    assert done.returncode == 1, done.stdout[-2000:]
    module = repo / "modules" / "waf"
    assert f"pingvas files: read above --infra: {module}" in done.stdout
    assert f"- `{module}`" in (reports / "summary.md").read_text().splitlines()
