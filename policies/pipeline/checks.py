"""Pipeline check bodies: pure functions over a PipelineInventory."""

from __future__ import annotations

import re
from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import Any

from policies.model import REVIEW, Finding, Location, Policy, resource
from policies.pipeline.envfiles import written
from policies.pipeline.model import PipelineInventory, Workflow
from policies.pipeline.scanners import NEVER, UNKNOWN, verdicts
from policies.registry import check
from policies.yamlfile import LineDict, mapping, sequence

_SHA = re.compile(r"^[0-9a-f]{40}$")
_ENV_REF = re.compile(r"\$\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def _steps(wf: Workflow) -> Iterator[tuple[str, LineDict, LineDict]]:
    for name, job in mapping(wf.doc.get("jobs")).items():
        if isinstance(job, LineDict):
            for step in sequence(job.get("steps")):
                if isinstance(step, LineDict):
                    yield str(name), job, step


def _at(wf: Workflow, node: LineDict, key: str) -> Location:
    return Location(wf.path, node.line_of(key))


@check("PIPE-001")
def pinned_actions(inv: PipelineInventory, policy: Policy) -> list[Finding]:
    findings = []
    for wf in inv.workflows:
        for job, _, step in _steps(wf):
            uses = str(step.get("uses", ""))
            if not uses or uses.startswith(("./", "docker://")):
                continue
            ref = uses.rpartition("@")[2]
            if not _SHA.match(ref):
                findings.append(
                    Finding(
                        policy.id,
                        resource("workflow-job", f"{wf.path.name}:{job}"),
                        f"{uses} is not pinned to a commit",
                        "owner/repo@<40-hex SHA> # vX.Y.Z",
                        ref or "no ref",
                        _at(wf, step, "uses"),
                    )
                )
    return findings


@check("PIPE-002")
def least_permissions(inv: PipelineInventory, policy: Policy) -> list[Finding]:
    findings = []
    for wf in inv.workflows:
        top = wf.doc.get("permissions")
        jobs = mapping(wf.doc.get("jobs"))
        for name, job in jobs.items():
            if not isinstance(job, LineDict):
                continue
            perms = job.get("permissions", top)
            uploads = any(
                "upload-sarif" in str(s.get("uses", ""))
                for s in sequence(job.get("steps"))
                if isinstance(s, dict)
            )
            # the permissions line, else the job's own line (where a permissions block goes)
            line = job.line_of("permissions") if "permissions" in job else jobs.line_of(name)
            where = Location(wf.path, line)
            if perms is None:
                findings.append(
                    Finding(
                        policy.id,
                        resource("workflow-job", f"{wf.path.name}:{name}"),
                        "no permissions: the token gets the repository default (often write-all)",
                        "permissions with only what the job needs",
                        "default",
                        where,
                    )
                )
            elif perms in ("write-all", "read-all") or (
                isinstance(perms, dict) and perms.get("security-events") == "write" and not uploads
            ):
                findings.append(
                    Finding(
                        policy.id,
                        resource("workflow-job", f"{wf.path.name}:{name}"),
                        "permissions wider than the job needs",
                        "security-events: write only where SARIF is uploaded",
                        str(perms),
                        where,
                    )
                )
    return findings


@check("PIPE-003")
def scanners_fail(inv: PipelineInventory, policy: Policy) -> list[Finding]:
    findings = []
    for wf in inv.workflows:
        for job, _, step in _steps(wf):
            found = verdicts(inv, wf, step, policy.params)
            subject = resource("workflow-job", f"{wf.path.name}:{job}")
            for v in found:
                if v.kind == NEVER:
                    findings.append(
                        Finding(
                            policy.id,
                            subject,
                            f"{v.action} can never fail the job",
                            v.fix,
                            v.actual,
                            v.location,
                        )
                    )
                elif v.kind == UNKNOWN:
                    findings.append(
                        Finding(
                            policy.id,
                            subject,
                            f"cannot verify how {v.action} fails the job",
                            "a scanner whose failing input the suite knows",
                            v.actual,
                            v.location,
                            REVIEW,
                        )
                    )
            if found and step.get("continue-on-error") in (True, "true"):
                findings.append(
                    Finding(
                        policy.id,
                        subject,
                        "scanner step continues on error",
                        "continue-on-error unset",
                        "true",
                        _at(wf, step, "continue-on-error"),
                    )
                )
    return findings


@check("PIPE-004")
def pull_request_trigger(inv: PipelineInventory, policy: Policy) -> list[Finding]:
    findings = []
    for wf in inv.workflows:
        if set(wf.triggers) & set(policy.params["pre_merge_triggers"]):
            continue
        after = _after_merge(wf)
        work = _code_step(wf, policy.params) if after else None
        if work is None:
            continue
        job, evidence = work
        findings.append(
            Finding(
                policy.id,
                resource("workflow", wf.path.name),
                f"job {job} builds, tests or scans code ({evidence}) only after merge",
                "on: pull_request (and a schedule)",
                ", ".join(wf.triggers),
                Location(wf.path, wf.doc.line_of(True) if True in wf.doc else wf.doc.line_of("on")),
            )
        )
    return findings


def _after_merge(wf: Workflow) -> bool:
    """Whether the workflow runs on the default branch's changes: a schedule, or a push that
    is not restricted to tags (a push with only tags filters is a release)."""
    on = wf.doc.get("on", wf.doc.get(True))
    push = mapping(on.get("push")) if isinstance(on, dict) else mapping(None)
    tags_only = bool({"tags", "tags-ignore"} & set(push)) and not (
        {"branches", "branches-ignore"} & set(push)
    )
    return "schedule" in wf.triggers or ("push" in wf.triggers and not tags_only)


def _code_step(wf: Workflow, params: dict[str, Any]) -> tuple[str, str] | None:
    """The first step that builds, tests or scans code (a known action, or a run: command),
    outside deployment jobs (a job with an environment), as (job, what it runs)."""
    commands = []
    for pattern in params["code_commands"]:
        try:
            commands.append(re.compile(pattern))
        except re.error:
            continue
    for job_name, job, step in _steps(wf):
        if "environment" in job:
            continue
        action = str(step.get("uses", "")).split("@")[0]
        if action and any(fnmatchcase(action, p) for p in params["code_actions"]):
            return job_name, action
        run = str(step.get("run", ""))
        match = next((m for c in commands if (m := c.search(run))), None)
        if match:
            return job_name, f"run: {match.group(0)}"
    return None


@check("PIPE-005")
def zizmor_findings(inv: PipelineInventory, policy: Policy) -> list[Finding]:
    levels = ["Informational", "Low", "Medium", "High"]
    floor = levels.index(policy.params["min_severity"])
    run = inv.zizmor
    if run is not None and run.failure is not None:
        where = (
            Location(run.failed_path, 1)
            if run.failed_path
            else inv.workflows[0].location
            if inv.workflows
            else Location(resource="zizmor")
        )
        return [
            Finding(
                policy.id,
                resource("tool", "zizmor"),
                "zizmor could not audit the workflows",
                "an audit of every workflow",
                run.failure,
                where,
            )
        ]
    return [
        Finding(
            policy.id,
            resource("zizmor-audit", "zizmor", r.audit),
            f"{r.description}: {r.annotation}",
            "no zizmor finding",
            f"{r.severity} {r.audit}",
            r.location,
        )
        for r in (run.results if run else [])
        if r.severity in levels and levels.index(r.severity) >= floor
    ]


@check("PIPE-006")
def helm_pinned(inv: PipelineInventory, policy: Policy) -> list[Finding]:
    return [
        Finding(
            policy.id,
            resource("helm-chart", h.chart),
            "Helm chart installed without a version",
            "--version <chart version>",
            "latest at install time",
            h.location,
        )
        for h in inv.helm
        if not h.pinned
    ]


@check("PIPE-007")
def env_defined(inv: PipelineInventory, policy: Policy) -> list[Finding]:
    findings = []
    for wf in inv.workflows:
        top = set(mapping(wf.doc.get("env")))
        jobs = {
            str(name): (job, _writes(job))
            for name, job in mapping(wf.doc.get("jobs")).items()
            if isinstance(job, LineDict)
        }
        for job_name, (job, writes) in jobs.items():
            job_env = top | set(mapping(job.get("env")))
            for index, (step, _, _) in enumerate(writes):
                earlier = {n for _, env, _ in writes[:index] for n in env}
                defined = job_env | set(mapping(step.get("env"))) | earlier
                for key, value in step.items():
                    for ref in _ENV_REF.findall(_text(value)):
                        if ref in defined:
                            continue
                        message, expected = _undefined(wf, ref, job_name, index, jobs)
                        findings.append(
                            Finding(
                                policy.id,
                                resource("workflow-job", f"{wf.path.name}:{job_name}"),
                                message,
                                expected,
                                "undefined",
                                Location(wf.path, _line_with(wf, step.line_of(key), ref)),
                            )
                        )
    return findings


Writes = list[tuple[LineDict, set[str], set[str]]]


def _writes(job: LineDict) -> Writes:
    """Each step of a job with the names its run: script writes to $GITHUB_ENV and to
    $GITHUB_OUTPUT."""
    steps = [s for s in sequence(job.get("steps")) if isinstance(s, LineDict)]
    return [
        (
            s,
            written(str(s.get("run", "")), "GITHUB_ENV"),
            written(str(s.get("run", "")), "GITHUB_OUTPUT"),
        )
        for s in steps
    ]


def _undefined(
    wf: Workflow, ref: str, job: str, index: int, jobs: dict[str, tuple[LineDict, Writes]]
) -> tuple[str, str]:
    """Why env.<ref> is undefined at a job's step `index`, and what defines it there."""
    writes = jobs[job][1]
    later = next((s for s, env, _ in writes[index:] if ref in env), None)
    if later is not None:
        return (
            f"env.{ref} is used before the step that writes it to $GITHUB_ENV "
            f"({wf.path.name}:{later.line})",
            "the step writing it runs before this one",
        )
    other = next((name for name, (_, w) in jobs.items() if any(ref in e for _, e, _ in w)), None)
    if other is not None:
        return (
            f"env.{ref} is written to $GITHUB_ENV in job {other}, which lasts only for that "
            "job's later steps",
            f"a job output of {other}: ${{{{ needs.{other}.outputs.<name> }}}}",
        )
    output = next((s for s, _, out in writes[:index] if ref in out), None)
    if output is not None:
        step_id = output.get("id", "<id>")
        return (
            f"env.{ref} is never defined: the step at line {output.line} writes {ref} to "
            "$GITHUB_OUTPUT (a step output, not an env variable)",
            f"${{{{ steps.{step_id}.outputs.{ref} }}}}",
        )
    return f"env.{ref} is used but never defined", f"env: {ref}: ... on the workflow, job or step"


@check("PIPE-008")
def current_actions(inv: PipelineInventory, policy: Policy) -> list[Finding]:
    minimum = policy.params["minimum_major"]
    findings = []
    for wf in inv.workflows:
        for job, _, step in _steps(wf):
            uses = str(step.get("uses", ""))
            action, _, ref = uses.partition("@")
            need = next((v for k, v in minimum.items() if action.startswith(k)), None)
            major = _major(ref) or _major(_comment(wf, step))
            if need is not None and major is not None and major < need:
                findings.append(
                    Finding(
                        policy.id,
                        resource("workflow-job", f"{wf.path.name}:{job}"),
                        f"{action} v{major} is deprecated (blocked or unsupported)",
                        f"v{need} or later",
                        f"v{major}",
                        _at(wf, step, "uses"),
                    )
                )
    return findings


def _line_with(wf: Workflow, start: int, ref: str) -> int:
    """The first line from `start` that mentions env.<ref> (values may span lines)."""
    lines = wf.lines
    return next((i for i in range(start, len(lines) + 1) if f"env.{ref}" in lines[i - 1]), start)


def _major(ref: str | None) -> int | None:
    match = re.match(r"^v(\d+)", ref or "")
    return int(match.group(1)) if match else None


def _comment(wf: Workflow, step: LineDict) -> str | None:
    """The tag in the trailing comment of a SHA-pinned `uses:` line (`# v4.2.2`)."""
    number = step.line_of("uses")
    line = wf.lines[number - 1] if 0 < number <= len(wf.lines) else ""
    match = re.search(r"#\s*(v\d[\w.-]*)", line)
    return match.group(1) if match else None


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(_text(v) for v in value.values())
    if isinstance(value, list):
        return " ".join(_text(v) for v in value)
    return str(value)
