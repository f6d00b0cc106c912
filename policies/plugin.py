"""The pytest plugin (entry point `pingvas`): options, hooks, the policy gate, report
collection. Fixtures live with what they provide: the scanned tree (policies.tree), the live
targets (policies.targets.*) and each family's inventories (policies.<family>.fixtures)."""

from __future__ import annotations

import datetime as dt
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from policies.config import ConfigError
from policies.lazy import Lazy
from policies.model import REVIEW, SEVERITIES, Finding, Waiver, finding_to_json
from policies.redact import inert, mask
from policies.registry import fixture_modules
from policies.reports import PolicyResult, write_sarif, write_summary
from policies.session import RUN, load_settings, read_waivers, settings, waivers_file
from policies.waivers import WaiverError, waiver_for

TARGETS = ("aws", "postgres", "prometheus", "kube")
pytest_plugins = [
    "policies.tree",
    *(f"policies.targets.{name}" for name in TARGETS),
    *fixture_modules(),
]
MARKERS = (
    "static: checks files in --infra without touching any deployed system",
    "live: probes a deployed system (--target local|localstack|aws)",
)
Gate = Callable[[str, list[Finding]], None]
# Errors of a live target's client: reported in one line, not as a library's traceback.
TARGET_ERROR_MODULES = ("botocore", "boto3", "urllib3", "requests", "psycopg", "kubernetes")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pingvas", "pingvas-policy")
    group.addoption("--infra", default="infra", help="platform tree to verify (default ./infra)")
    group.addoption("--reports", default="reports", help="where reports go (default ./reports)")
    group.addoption(
        "--target",
        default="local",
        choices=("local", "localstack", "aws"),
        help="where live probes go: embedded moto stack (default), LocalStack, or real AWS",
    )
    group.addoption("--aws-endpoint", default=None, help="AWS endpoint URL overriding the target's")
    group.addoption(
        "--pg-dsn",
        default=None,
        help="PostgreSQL DSN of a role that may SET ROLE to the app and service roles "
        "(default: a throwaway cluster with --infra's migrations applied)",
    )
    group.addoption(
        "--family",
        default=None,
        help="comma-separated policy families to run (waf,rls,secrets,alarms,metrics,...)",
    )
    group.addoption(
        "--fail-on",
        default="low",
        choices=SEVERITIES,
        help="lowest severity that fails a test; findings below are reported only",
    )
    group.addoption(
        "--list-policies", action="store_true", help="print the policy reference and exit"
    )
    group.addoption(
        "--allow-mutation",
        action="store_true",
        help="allow the probes that write to a user's systems (--target aws or localstack, "
        "--aws-endpoint, --pg-dsn): test subscriptions, forced alarms, isolation rows; "
        "read-only without it",
    )
    group.addoption(
        "--allow-exec",
        action="store_true",
        help="on --target local, apply Terraform that runs code or reads outside the tree "
        '(provisioners, data "external", other providers); refused without it',
    )
    group.addoption(
        "--waf-probe-url",
        default=None,
        help="send a bounded set of attack requests (SQLi, XSS, oversized body) to this URL "
        "and expect 403 from the WAF, and the repository's reproducible WAF cases to its origin",
    )
    group.addoption("--kube-context", default=None, help="kubeconfig context for live kube probes")
    group.addoption(
        "--prometheus-url",
        default=None,
        help="a deployed Prometheus to query instead of the embedded one",
    )
    group.addoption(
        "--config",
        default=None,
        help="the scanned repository's configuration (default: pingvas-policy.toml at the root"
        " of --infra, when there is one)",
    )
    group.addoption(
        "--tf-plan",
        default=None,
        metavar="FILE",
        help="`terraform show -json PLAN` of a root under --infra: its Terraform policies run on"
        " the planned values, located at the configuration's lines",
    )
    group.addoption(
        "--waf-cases",
        action="append",
        default=[],
        metavar="FILE",
        help="a WAF case file (waf-cases.yaml) outside --infra; the ones under --infra are found"
        " by content (repeatable)",
    )
    group.addoption(
        "--waf-explain",
        default=None,
        metavar="REQUEST",
        help="print what the tree's Web ACL does to a request and why (no test run), e.g."
        ' "POST /api/generate body_size=16384 header:User-Agent=curl'
        ' managed:AWSManagedRulesSQLiRuleSet="',
    )
    group.addoption(
        "--hcl-parser",
        default="tree-sitter",
        choices=("tree-sitter", "python-hcl2"),
        help="HCL front end: tree-sitter-hcl (default; python-hcl2 settles the files it cannot"
        " read alike) or python-hcl2 (the reference)",
    )
    group.addoption(
        "--waivers",
        default=None,
        help="waivers file (default: the one the configuration names; none otherwise)",
    )


def _settings(config: pytest.Config) -> Any:
    infra = Path(config.getoption("--infra")).expanduser().resolve()
    if not infra.is_dir():
        raise pytest.UsageError(f"--infra {infra}: no such directory")
    plan = None
    if config.getoption("--tf-plan"):
        from policies.tfplan import read_plan

        try:
            plan = read_plan(Path(config.getoption("--tf-plan")).expanduser().resolve())
        except ValueError as exc:
            raise pytest.UsageError(inert(f"--tf-plan {exc}")) from None
    waf_cases = tuple(Path(f).expanduser().resolve() for f in config.getoption("--waf-cases"))
    try:
        return load_settings(infra, config.getoption("--config"), plan, waf_cases)
    except ConfigError as exc:  # the tree's own configuration: its keys shown inert
        raise pytest.UsageError(inert(str(exc))) from None


def pytest_cmdline_main(config: pytest.Config) -> int | None:
    if config.getoption("--list-policies"):
        from policies.docs import render

        run = _settings(config)
        print(render(run.catalog, run.config.path), end="")
        return 0
    if config.getoption("--waf-explain"):
        from policies.waf.explain import explain

        shown, verdict = explain(config.getoption("--waf-explain"), _settings(config))
        print(mask(shown))  # the tree's rule names and values, inert line by line
        return 0 if verdict is not None and not verdict.undecidable else 1
    return None


def _policy_of(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    case = callspec.params.get("case") if callspec else None
    return getattr(case, "policy_id", None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """--family: keep only the policy tests of the named families (self-tests stay)."""
    wanted = config.getoption("--family")
    if not wanted:
        return
    families = {f.strip() for f in wanted.split(",") if f.strip()}
    catalog = settings(config).catalog
    unknown = families - {p.family for p in catalog.values()}
    if unknown:
        raise pytest.UsageError(f"--family: unknown {', '.join(sorted(unknown))}")
    keep, drop = [], []
    for item in items:
        policy = _policy_of(item)
        family = catalog[policy].family if policy in catalog else None
        (drop if family is not None and family not in families else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    config.stash[RUN] = _settings(config)
    reports = Path(config.getoption("--reports")).expanduser().resolve()
    if not hasattr(config, "workerinput"):
        reports.mkdir(parents=True, exist_ok=True)
        if not config.option.xmlpath:
            config.option.xmlpath = str(reports / "junit.xml")
        config.pluginmanager.register(_Collector(config), "pingvas-collector")
    if config.getoption("hypothesis_profile", None):
        import policies.hypothesis_profiles  # noqa: F401 - registers the named profiles
    _interrupt_on_sigterm()


def _interrupt_on_sigterm() -> None:
    """SIGTERM (a cancelled CI job) ends the run like Ctrl-C: pytest unwinds, so services and
    work directories started by the run are stopped and removed. Python's default would exit
    at once and leave them behind."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminate)


def _terminate(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends it at once
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report = yield
    _target_error_in_one_line(report, call)
    _mask_report(report)
    policy_id = getattr(item, "pingvas_policy", None) or _policy_of(item)
    if policy_id:
        tier = "live" if item.get_closest_marker("live") else "static"
        report.pingvas = {
            "policy": policy_id,
            "tier": tier,
            "findings": getattr(item, "pingvas_findings", []),
            "not_applicable": getattr(item, "pingvas_not_applicable", None),
            "outside": getattr(item, "pingvas_outside", []),
        }
    return report


def _target_error_in_one_line(report: pytest.TestReport, call: pytest.CallInfo[None]) -> None:
    """An unreachable or refusing target (a client library's exception escaping a probe) is
    one line naming the error, not the library's traceback."""
    excinfo = call.excinfo
    if not report.failed or excinfo is None:
        return
    module = type(excinfo.value).__module__ or ""
    if module.split(".")[0] in TARGET_ERROR_MODULES:
        text = " ".join(str(excinfo.value).split())[:300]
        report.longrepr = f"live target error: {type(excinfo.value).__name__}: {text}"


def _mask_report(report: pytest.TestReport) -> None:
    """Registered secret values never leave the process, and names and values of the tree are
    shown inert: not in failure text, not in captured output or logs (JUnit and the terminal
    are written from these)."""
    if report.longrepr is not None and not isinstance(report.longrepr, tuple):
        text = str(report.longrepr)
        masked = mask(text)
        if masked != text:  # keep pytest's structured repr when nothing was masked
            report.longrepr = masked
    elif isinstance(report.longrepr, tuple):
        path, line, message = report.longrepr
        report.longrepr = (path, line, mask(message))
    report.sections = [(title, mask(content)) for title, content in report.sections]


class _Collector:
    """Gathers policy results on the controller (xdist workers send them in their reports)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results: dict[str, PolicyResult] = {}
        self.outside: set[str] = set()  # directories read above --infra, from every worker

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, "pingvas", None)
        if not data:
            return
        self.outside.update(data.get("outside", ()))
        result = self.results.setdefault(
            report.nodeid, PolicyResult(data["policy"], data["tier"], "passed")
        )
        if data["findings"]:
            result.findings = data["findings"]
        if report.failed:
            result.outcome = "failed" if report.when == "call" else "error"
            if not result.findings:
                result.reason = str(report.longrepr).strip().splitlines()[-1][:300]
        elif report.skipped and result.outcome == "passed":
            result.outcome = "not applicable" if data["not_applicable"] else "skipped"
            longrepr = report.longrepr
            result.reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        reports = Path(self.config.getoption("--reports")).expanduser().resolve()
        results = list(self.results.values())
        catalog = settings(self.config).catalog
        write_sarif(results, catalog, reports / "results.sarif")
        try:
            waivers = read_waivers(self.config)
        except WaiverError:
            waivers = []  # reported by test_waivers_valid
        write_summary(
            results,
            catalog,
            waivers,
            reports / "summary.md",
            dt.date.today(),
            sorted(self.outside),
        )

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        from policies.targets.aws import shared_timings
        from policies.targets.stack import STACK_TIMINGS
        from policies.tree import SOURCES

        timings = shared_timings(self.config) or self.config.stash.get(STACK_TIMINGS, {})
        if timings:
            shown = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in timings.items())
            terminalreporter.write_line(f"pingvas local services: {shown}")
        sources = self.config.stash.get(SOURCES, None)  # not under xdist: workers parse
        if sources is not None:
            terminalreporter.write_line(inert(f"pingvas files: {sources.listing()}"))
            if sources.hcl_files:
                settled = sum(sources.hcl.fallbacks.values())
                terminalreporter.write_line(
                    f"pingvas sources: {sources.hcl_files} HCL files,"
                    f" {sources.hcl_cached} from the parse cache"
                    + (f", {settled} parsed by python-hcl2" if settled else "")
                )
        elif self.outside:
            shown = ", ".join(sorted(self.outside))
            terminalreporter.write_line(inert(f"pingvas files: read above --infra: {shown}"))
        reports = self.config.getoption("--reports")
        terminalreporter.write_line(
            inert(f"pingvas reports: {reports}/junit.xml, results.sarif, summary.md")
        )


@pytest.fixture(scope="session")
def waivers_path(pytestconfig: pytest.Config) -> Path | None:
    """The waivers file in force: --waivers, else the one the scanned repository's
    configuration names, else none (the suite ships and applies no waiver of its own)."""
    return waivers_file(pytestconfig)


@pytest.fixture(scope="session")
def waivers(pytestconfig: pytest.Config) -> Lazy[list[Waiver]]:
    """The waivers in force; an unreadable or invalid file fails in one line naming it."""

    def load() -> list[Waiver]:
        try:
            return read_waivers(pytestconfig)
        except WaiverError as exc:
            pytest.fail(f"waivers {exc}", pytrace=False)

    return Lazy(load)


@pytest.fixture
def gate(request: pytest.FixtureRequest, waivers: Lazy[list[Waiver]]) -> Gate:
    """Apply waivers to a policy's findings, record them for the reports, fail on the rest."""

    from policies.redact import mask, masked

    def run(policy_id: str, findings: list[Finding]) -> None:
        policy = settings(request.config).catalog[policy_id]
        today = dt.date.today()
        in_force = waivers.get()
        floor = SEVERITIES.index(request.config.getoption("--fail-on"))
        recorded, failing = [], []
        for finding in findings:
            waiver = waiver_for(finding, in_force, today)
            data = {k: masked(v) for k, v in finding_to_json(finding).items()}
            data["waiver"] = (
                {"reason": waiver.reason, "owner": waiver.owner, "expires": str(waiver.expires)}
                if waiver
                else None
            )
            severity = policy.unverifiable if finding.kind == REVIEW else policy.severity
            below = SEVERITIES.index(severity) < floor
            data["below_fail_on"] = below and waiver is None
            recorded.append(data)
            if waiver is None and not below:
                failing.append(finding)
        request.node.pingvas_policy = policy_id
        request.node.pingvas_findings = recorded
        if failing:
            header = f"{policy_id} [{policy.severity}] {policy.title}: {len(failing)} finding(s)"
            body = "\n".join(f"  {f.render(policy.remediation)}" for f in failing)
            pytest.fail(mask(f"{header}\n{body}"), pytrace=False)

    return run
