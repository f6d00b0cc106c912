"""Terraform's own plan (`terraform show -json PLAN`) as the suite's Terraform model.

Two uses: `--tf-plan FILE`, for teams that already plan in CI (the policies then run on the
planned values of that root, located at the configuration's file and line as the static
reader found them), and the evaluator's oracle: `differences()` compares what the evaluator
made of a root with what terraform planned, attribute by attribute."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policies.terraform import META_KEYS, TfProject, TfResource, root_instance
from policies.tfeval import READ_AT_PLAN, Unknown, is_unknown

# What the policies read, by resource type (the parity test compares these).
POLICY_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "aws_wafv2_web_acl": ("name", "scope", "default_action", "rule"),
    "aws_wafv2_web_acl_logging_configuration": (
        "resource_arn",
        "log_destination_configs",
        "redacted_fields",
    ),
    "aws_wafv2_web_acl_association": ("resource_arn", "web_acl_arn"),
    "aws_kinesis_firehose_delivery_stream": ("name", "destination", "extended_s3_configuration"),
    "aws_secretsmanager_secret": ("name", "kms_key_id", "recovery_window_in_days"),
    "aws_secretsmanager_secret_rotation": ("secret_id", "rotation_rules"),
    "aws_cloudwatch_metric_alarm": (
        "alarm_name",
        "namespace",
        "metric_name",
        "statistic",
        "comparison_operator",
        "threshold",
        "period",
        "evaluation_periods",
        "datapoints_to_alarm",
        "treat_missing_data",
        "alarm_actions",
        "ok_actions",
        "dimensions",
        "metric_query",
    ),
    "aws_sns_topic": ("name", "kms_master_key_id"),
    "aws_sns_topic_subscription": ("topic_arn", "protocol"),
    "aws_kms_key": ("policy",),
    "aws_eks_addon": ("addon_name",),
    "aws_s3_bucket": ("bucket",),
    "aws_iam_role": ("name",),
}


@dataclass(frozen=True)
class Planned:
    """One resource instance terraform plans to create."""

    address: str
    module: str
    type: str
    name: str
    index: int | str | None
    values: dict[str, Any]  # known values; what only apply knows is an Unknown


def read_plan(path: Path) -> dict[str, Any]:
    """`terraform show -json PLAN`'s document; ValueError naming the file when it is not one."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a plan in JSON ({exc})") from None
    if not isinstance(document, dict) or "planned_values" not in document:
        raise ValueError(f"{path}: no planned_values: not `terraform show -json` of a plan")
    return document


def planned(plan: dict[str, Any]) -> list[Planned]:
    """The managed resource instances the plan creates, updates or keeps."""
    found = []
    for change in plan.get("resource_changes") or []:  # absent when nothing changes
        actions = change.get("change", {}).get("actions", [])
        if change.get("mode") != "managed" or actions == ["delete"]:
            continue
        after = change["change"].get("after") or {}
        after = _written(_masked(after, change["change"].get("after_sensitive")))
        unknown = change["change"].get("after_unknown") or {}
        found.append(
            Planned(
                change["address"],
                change.get("module_address", ""),
                change["type"],
                change["name"],
                change.get("index"),
                _merge(after, unknown, _local(change)),
            )
        )
    return found


def project_from_plan(plan: dict[str, Any], static: TfProject) -> TfProject:
    """A TfProject of the plan's instances, each at its configuration's file and line (from the
    static reader's instance of the same address, else its module block's)."""
    items = planned(plan)
    root = _root_of(items, static)
    by_address = {r.address: r for r in static.resources if root_instance(r.instance) == root}
    project = TfProject(base=static.base, roots=static.roots, errors=static.errors)
    project.variables, project.tfvars, project._lines = (
        static.variables,
        static.tfvars,
        static._lines,
    )
    for item in items:
        known = by_address.get(item.address)
        path = known.path if known else static.base
        line = known.line if known else 1
        base = root or "plan"
        instance = known.instance if known else f"{base}/{item.module}" if item.module else base
        resource = TfResource(item.type, item.name, item.module, item.values, path, line, instance)
        resource.index, resource.raw = item.index, known.raw if known else {}
        project.resources.append(resource)
        project._by_address.setdefault((root_instance(instance), item.address), resource)
    return project


def _root_of(items: list[Planned], static: TfProject) -> str | None:
    """The root under --infra the plan is of: the one whose instances share the most addresses
    with the plan's (None when none does: the plan's resources are then located at --infra)."""
    planned_addresses = {item.address for item in items}
    shared: dict[str, int] = {}
    for resource in static.resources:
        if resource.address in planned_addresses:
            root = root_instance(resource.instance)
            shared[root] = shared.get(root, 0) + 1
    return max(shared, key=lambda root: shared[root], default=None)


def differences(ours: TfProject, plan: dict[str, Any]) -> list[str]:
    """Every difference between the evaluator and terraform: instances one side has and the
    other lacks, and each attribute a policy reads that differs (a value known on one side and
    unknown on the other included). Empty when they agree."""
    theirs = {p.address: p for p in planned(plan)}
    mine = {r.address: r for r in ours.resources}
    found = [
        f"{a}: planned by terraform, not by the evaluator" for a in sorted(set(theirs) - set(mine))
    ]
    found += [f"{a}: made by the evaluator, not planned" for a in sorted(set(mine) - set(theirs))]
    for address in sorted(set(theirs) & set(mine)):
        resource = mine[address]
        for attribute in POLICY_ATTRIBUTES.get(resource.type, ()):
            if attribute not in resource.body:
                continue
            found += [
                f"{address}.{attribute}{where}: {problem}"
                for where, problem in _compare(
                    resource.body[attribute], theirs[address].values.get(attribute), ""
                )
            ]
    return found


def _compare(ours: Any, theirs: Any, where: str) -> list[tuple[str, str]]:
    if ours in (None, []) and theirs in (None, []):
        return []  # unset: null, or a nested block written zero times
    if isinstance(ours, Unknown) or isinstance(theirs, Unknown):
        if is_unknown(ours) and is_unknown(theirs):  # a list terraform marks unknown as a whole
            return []
        if isinstance(ours, Unknown) and ours.what == READ_AT_PLAN:
            return []  # terraform reads data sources while planning; the static tier cannot
        side = "the evaluator" if isinstance(ours, Unknown) else "terraform"
        return [(where, f"unknown to {side} only: evaluator {_show(ours)}, plan {_show(theirs)}")]
    if isinstance(ours, dict):
        if not isinstance(theirs, dict):
            return [(where, f"evaluator {_show(ours)}, plan {_show(theirs)}")]
        problems = []
        for key, value in ours.items():
            if key not in META_KEYS:
                problems += _compare(value, theirs.get(key), f"{where}.{key}")
        return problems
    if isinstance(ours, list):
        if not isinstance(theirs, list) or len(ours) != len(theirs):
            return [(where, f"evaluator {_show(ours)}, plan {_show(theirs)}")]
        ordered = [
            p
            for i, (a, b) in enumerate(zip(ours, theirs, strict=True))
            for p in _compare(a, b, f"{where}[{i}]")
        ]
        if not ordered:
            return []
        return [] if _as_set(ours, theirs) else ordered  # blocks in a set: any order
    if _normal(ours) != _normal(theirs):
        return [(where, f"evaluator {_show(ours)}, plan {_show(theirs)}")]
    return []


def _as_set(ours: list[Any], theirs: list[Any]) -> bool:
    """Whether every element of ours matches a distinct element of theirs."""
    left = list(range(len(theirs)))
    for item in ours:
        match = next((i for i in left if not _compare(item, theirs[i], "")), None)
        if match is None:
            return False
        left.remove(match)
    return True


def _normal(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _show(value: Any) -> str:
    text = str(value) if isinstance(value, Unknown) else json.dumps(value, default=str)
    return text if len(text) <= 100 else text[:97] + "..."


def _local(change: dict[str, Any]) -> str:
    return str(change["address"])


def _written(value: Any) -> Any:
    """The value as the configuration would write it: the plan lists every attribute and nested
    block of the schema, unset ones as null and [] (the static reader omits them)."""
    if isinstance(value, dict):
        return {k: _written(v) for k, v in value.items() if v is not None and v != []}
    if isinstance(value, list):
        return [_written(v) for v in value]
    return value


def _masked(after: Any, sensitive: Any) -> Any:
    """The planned value with what the plan marks sensitive left out (never read, never
    printed): an Unknown saying so."""
    if sensitive is True:
        return Unknown("sensitive in the plan: not read", "(sensitive)")
    if isinstance(after, dict) and isinstance(sensitive, dict):
        return {k: _masked(v, sensitive.get(k)) for k, v in after.items()}
    if isinstance(after, list) and isinstance(sensitive, list):
        return [
            _masked(v, sensitive[i] if i < len(sensitive) else None) for i, v in enumerate(after)
        ]
    return after


def _merge(after: Any, unknown: Any, address: str, path: str = "") -> Any:
    """The planned value with every path after_unknown marks as an Unknown naming the
    resource (known after apply)."""
    if unknown is True:
        return Unknown("known after apply", f"{address}{path}", address)
    if isinstance(after, dict):
        marks = unknown if isinstance(unknown, dict) else {}
        keys = set(after) | {k for k, v in marks.items() if v is True}
        return {k: _merge(after.get(k), marks.get(k), address, f"{path}.{k}") for k in keys}
    if isinstance(after, list):
        marks = unknown if isinstance(unknown, list) else []
        return [
            _merge(v, marks[i] if i < len(marks) else None, address, f"{path}[{i}]")
            for i, v in enumerate(after)
        ]
    return after
