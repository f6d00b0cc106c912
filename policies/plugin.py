"""The pytest plugin (entry point `pingvas`): options, fixtures, the policy gate, reports."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from policies.aws import AwsTarget
from policies.catalog import load_catalog
from policies.model import SEVERITIES, Finding, Waiver, finding_to_json
from policies.reports import PolicyResult, write_sarif, write_summary
from policies.waivers import DEFAULT_WAIVERS, load_waivers, waiver_for

STACK_TIMINGS = pytest.StashKey[dict[str, float]]()
SHARED_STACK = pytest.StashKey[Path]()  # controller: where xdist workers share one local stack
SHARED_STACK_INPUT = "pingvas_shared_stack"
SOURCES = pytest.StashKey[Any]()  # the session's Sources, for the parse line of the summary
Gate = Callable[[str, list[Finding]], None]


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
        help="on --target aws, allow the probes that change state (test subscriptions, forced "
        "alarms); read-only without it",
    )
    group.addoption(
        "--waf-probe-url",
        default=None,
        help="send a bounded set of attack requests (SQLi, XSS, oversized body) to this URL "
        "and expect 403 from the WAF",
    )
    group.addoption("--kube-context", default=None, help="kubeconfig context for live kube probes")
    group.addoption(
        "--prometheus-url",
        default=None,
        help="a deployed Prometheus to query instead of the embedded one",
    )
    group.addoption(
        "--waivers",
        default=str(DEFAULT_WAIVERS),
        help="waivers file (default: policies/waivers.yaml of the suite)",
    )


def pytest_cmdline_main(config: pytest.Config) -> int | None:
    if config.getoption("--list-policies"):
        from policies.docs import render

        print(render(load_catalog()), end="")
        return 0
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """--family: keep only the policy tests of the named families (self-tests stay)."""
    wanted = config.getoption("--family")
    if not wanted:
        return
    families = {f.strip() for f in wanted.split(",") if f.strip()}
    unknown = families - {p.family for p in load_catalog().values()}
    if unknown:
        raise pytest.UsageError(f"--family: unknown {', '.join(sorted(unknown))}")
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        policy = callspec.params.get("policy") if callspec else None
        family = load_catalog()[policy].family if policy in load_catalog() else None
        (drop if family is not None and family not in families else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    infra = Path(config.getoption("--infra")).expanduser().resolve()
    if not infra.is_dir():
        raise pytest.UsageError(f"--infra {infra}: no such directory")
    reports = Path(config.getoption("--reports")).expanduser().resolve()
    if not hasattr(config, "workerinput"):
        reports.mkdir(parents=True, exist_ok=True)
        if not config.option.xmlpath:
            config.option.xmlpath = str(reports / "junit.xml")
        config.pluginmanager.register(_Collector(config), "pingvas-collector")
    if config.getoption("hypothesis_profile", None):
        import policies.hypothesis_profiles  # noqa: F401 - registers the named profiles


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist controller: every worker gets the directory where the first of them to need
    the local stack brings it up for all (one terraform apply per run, not one per worker)."""
    if SHARED_STACK not in node.config.stash:
        node.config.stash[SHARED_STACK] = Path(tempfile.mkdtemp(prefix="pingvas-stack-"))
    node.workerinput[SHARED_STACK_INPUT] = str(node.config.stash[SHARED_STACK])


def pytest_unconfigure(config: pytest.Config) -> None:
    if SHARED_STACK in config.stash:
        from policies.stack import stop_shared_stack

        stop_shared_stack(config.stash[SHARED_STACK])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report = yield
    _mask_report(report)
    callspec = getattr(item, "callspec", None)
    policy_id = getattr(item, "pingvas_policy", None) or (
        callspec and callspec.params.get("policy")
    )
    if policy_id:
        tier = "live" if item.get_closest_marker("live") else "static"
        report.pingvas = {
            "policy": policy_id,
            "tier": tier,
            "findings": getattr(item, "pingvas_findings", []),
        }
    return report


def _mask_report(report: pytest.TestReport) -> None:
    """Registered secret values never leave the process: not in failure text, not in captured
    output or logs (JUnit and the terminal are written from these)."""
    from policies.redact import mask

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

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, "pingvas", None)
        if not data:
            return
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
            result.outcome = "skipped"
            longrepr = report.longrepr
            result.reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        reports = Path(self.config.getoption("--reports")).expanduser().resolve()
        results = list(self.results.values())
        catalog = load_catalog()
        write_sarif(results, catalog, reports / "results.sarif")
        try:
            waivers = load_waivers(Path(self.config.getoption("--waivers")))
        except (OSError, ValueError, yaml.YAMLError):
            waivers = []  # reported by test_waivers_valid
        write_summary(results, catalog, waivers, reports / "summary.md", dt.date.today())

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        timings = self.config.stash.get(STACK_TIMINGS, {})
        shared = self.config.stash.get(SHARED_STACK, None)
        if shared and (shared / "stack.json").exists():
            timings = json.loads((shared / "stack.json").read_text()).get("timings", {})
        if timings:
            shown = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in timings.items())
            terminalreporter.write_line(f"pingvas local services: {shown}")
        sources = self.config.stash.get(SOURCES, None)  # not under xdist: workers parse
        if sources is not None and sources.hcl_files:
            terminalreporter.write_line(
                f"pingvas sources: {sources.hcl_files} HCL files,"
                f" {sources.hcl_cached} from the parse cache"
            )
        reports = self.config.getoption("--reports")
        terminalreporter.write_line(
            f"pingvas reports: {reports}/junit.xml, results.sarif, summary.md"
        )


@pytest.fixture(scope="session")
def infra_dir(pytestconfig: pytest.Config) -> Path:
    """The platform tree under verification (--infra)."""
    return Path(pytestconfig.getoption("--infra")).expanduser().resolve()


@pytest.fixture(scope="session")
def sources(pytestconfig: pytest.Config, infra_dir: Path) -> Any:
    """The files under --infra, each read and parsed once per session; HCL parses cached in
    pytest's cache directory (`--cache-clear` empties it, `-p no:cacheprovider` disables it)."""
    from policies.sources import Sources

    cache = getattr(pytestconfig, "cache", None)
    worker = getattr(pytestconfig, "workerinput", {"workerid": "gw0", "workercount": 1})
    share = (int(worker["workerid"].removeprefix("gw")), int(worker["workercount"]))
    sources = Sources(infra_dir, cache.mkdir("pingvas-hcl") if cache else None, share)
    pytestconfig.stash[SOURCES] = sources
    return sources


@pytest.fixture(scope="session")
def terraform_project(sources: Any) -> Any:
    """All Terraform under --infra, parsed once per session."""
    from policies.terraform import load_project

    return load_project(sources)


@pytest.fixture(scope="session")
def waivers_path(pytestconfig: pytest.Config) -> Path:
    """The waivers file in force (--waivers)."""
    return Path(pytestconfig.getoption("--waivers")).expanduser().resolve()


@pytest.fixture(scope="session")
def waivers(waivers_path: Path) -> list[Waiver]:
    """The waivers in force; an unreadable file fails in one line naming it."""
    try:
        return load_waivers(waivers_path)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        cause = " ".join(str(exc).split())
    pytest.fail(f"waivers {waivers_path}: {cause}", pytrace=False)


@pytest.fixture
def gate(request: pytest.FixtureRequest, waivers: list[Waiver]) -> Gate:
    """Apply waivers to a policy's findings, record them for the reports, fail on the rest."""

    from policies.redact import mask

    def run(policy_id: str, findings: list[Finding]) -> None:
        policy = load_catalog()[policy_id]
        today = dt.date.today()
        recorded, failing = [], []
        for finding in findings:
            waiver = waiver_for(finding, waivers, today)
            data = {
                k: mask(v) if isinstance(v, str) else v for k, v in finding_to_json(finding).items()
            }
            data["waiver"] = (
                {"reason": waiver.reason, "owner": waiver.owner, "expires": str(waiver.expires)}
                if waiver
                else None
            )
            recorded.append(data)
            if waiver is None:
                failing.append(finding)
        request.node.pingvas_policy = policy_id
        request.node.pingvas_findings = recorded
        floor = SEVERITIES.index(request.config.getoption("--fail-on"))
        if SEVERITIES.index(policy.severity) < floor:
            for data in recorded:
                data["below_fail_on"] = data["waiver"] is None
            failing = []
        if failing:
            header = f"{policy_id} [{policy.severity}] {policy.title}: {len(failing)} finding(s)"
            body = "\n".join(f"  {f.render(policy.remediation)}" for f in failing)
            pytest.fail(mask(f"{header}\n{body}"), pytrace=False)

    return run


@pytest.fixture(scope="session")
def aws_target(
    pytestconfig: pytest.Config,
    tmp_path_factory: pytest.TempPathFactory,
    infra_dir: Path,
    terraform_project: Any,
) -> Iterator[AwsTarget]:
    """The AWS endpoint live probes read; on --target local, moto with infra's roots applied."""
    target = pytestconfig.getoption("--target")
    endpoint = pytestconfig.getoption("--aws-endpoint")
    if target == "aws":
        yield AwsTarget(endpoint)
        return
    if target == "localstack" or endpoint:
        yield AwsTarget(endpoint or "http://localhost:4566", local_credentials=True)
        return
    from policies.stack import local_stack, shared_stack

    if not terraform_project.roots:
        pytest.fail(
            f"no Terraform root (a directory with a provider block) under {infra_dir}",
            pytrace=False,
        )
    shared = getattr(pytestconfig, "workerinput", {}).get(SHARED_STACK_INPUT)
    if shared:  # a pytest-xdist worker: one stack for all workers, stopped by the controller
        state = shared_stack(Path(shared), infra_dir, terraform_project.roots)
        if "unavailable" in state:
            pytest.skip(state["unavailable"])
        if "error" in state:
            pytest.fail(state["error"], pytrace=False)
        yield AwsTarget(state["endpoint"], local_credentials=True)
        return
    workdir = tmp_path_factory.mktemp("local-stack")
    stack = _bring_up(lambda: local_stack(workdir, infra_dir, terraform_project.roots))
    pytestconfig.stash.setdefault(STACK_TIMINGS, {}).update(stack.timings)
    yield AwsTarget(stack.endpoint, local_credentials=True)
    stack.stop()


def _bring_up(start: Callable[[], Any], cleanup: Callable[[], None] | None = None) -> Any:
    """Start a local service: a missing tool skips saying what to install, a failure fails in
    one line (neither with a traceback)."""
    from policies.stack import StackError, StackUnavailable

    try:
        return start()
    except (StackUnavailable, StackError) as exc:
        error = exc
    if cleanup is not None:
        cleanup()
    if isinstance(error, StackUnavailable):
        pytest.skip(str(error))
    pytest.fail(str(error), pytrace=False)


def live_read(target: AwsTarget, what: str, read: Callable[[], Any]) -> Any:
    """Run a live reader; an unreachable endpoint or refused credentials fail in one line."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
    )

    where = target.endpoint or f"AWS {target.region}"
    try:
        return read()
    except ClientError as exc:
        error = exc.response.get("Error", {})
        cause = f"{where} refused {exc.operation_name}: {error.get('Code')}: {error.get('Message')}"
    except (EndpointConnectionError, ConnectTimeoutError) as exc:
        cause = f"cannot reach {where}: {exc}"
    except BotoCoreError as exc:
        cause = f"{where}: {exc}"
    pytest.fail(f"{what}: {' '.join(cause.split())[:300]}", pytrace=False)


@pytest.fixture(scope="session")
def waf_static(terraform_project: Any) -> Any:
    """The WAF inventory declared in --infra's Terraform."""
    from policies.waf.static import read_static

    return read_static(terraform_project)


@pytest.fixture(scope="session")
def waf_live(pytestconfig: pytest.Config, aws_target: AwsTarget) -> Any:
    """The WAF inventory deployed at the live target."""
    if pytestconfig.getoption("--target") == "localstack":
        pytest.skip(
            "LocalStack's free edition does not serve wafv2:"
            " WAF live checks need --target local or aws"
        )
    from policies.waf.live import read_live

    return live_read(aws_target, "WAF live read", lambda: read_live(aws_target))


@pytest.fixture(scope="session")
def rls_static(sources: Any) -> Any:
    """Row-level security as declared: SQL migrations and the app's database code."""
    from policies.rls.static import read_static

    return read_static(sources)


@pytest.fixture(scope="session")
def pg_cluster(pytestconfig: pytest.Config, sources: Any) -> Iterator[Any]:
    """The embedded PostgreSQL with every *.sql file under --infra applied in path order to a
    database `pingvas`; None when --pg-dsn names an existing database."""
    if pytestconfig.getoption("--pg-dsn"):
        yield None
        return
    from policies.postgres import start_cluster

    cluster = _bring_up(start_cluster)
    pytestconfig.stash.setdefault(STACK_TIMINGS, {}).update(cluster.timings)
    try:
        _migrated(cluster, sources, "pingvas")
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_dsn(pytestconfig: pytest.Config, pg_cluster: Any) -> str:
    """The platform database: --pg-dsn (its password is masked in every output), or the
    embedded cluster's."""
    given = pytestconfig.getoption("--pg-dsn")
    if given:
        from psycopg.conninfo import conninfo_to_dict

        from policies.redact import register

        # an unparseable DSN fails at connect, in one line
        with contextlib.suppress(Exception):
            register(conninfo_to_dict(given).get("password"))
        return given
    return pg_cluster.dsn(dbname="pingvas")


def _migrated(cluster: Any, sources: Any, dbname: str) -> None:
    """Create the database and apply the migrations; a failing one fails in one line naming it."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    failure = None
    with psycopg.connect(cluster.dsn(dbname=dbname), autocommit=True) as conn:
        for path in sources.files(".sql"):
            try:
                conn.execute(sources.text(path))
            except psycopg.Error as exc:
                failure = f"{path}: migration failed: {exc.sqlstate}: {' '.join(str(exc).split())}"
                break
    if failure:
        pytest.fail(failure[:400], pytrace=False)


@pytest.fixture(scope="session")
def pg_conn(pg_dsn: str) -> Iterator[Any]:
    """One connection to the platform database; an unreachable DSN fails in one line."""
    import psycopg

    try:
        conn = psycopg.connect(pg_dsn, connect_timeout=5)
    except psycopg.Error as exc:
        pytest.fail(
            f"cannot connect to PostgreSQL ({_safe_dsn(pg_dsn)}): "
            f"{' '.join(str(exc).split())[:300]}",
            pytrace=False,
        )
    yield conn
    conn.close()


def _safe_dsn(dsn: str) -> str:
    """The DSN without its password, for messages."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(dsn)
    except Exception:  # noqa: BLE001 - an unparseable DSN is shown as a placeholder
        return "<unparseable DSN>"
    return " ".join(f"{k}={'***' if k == 'password' else v}" for k, v in parts.items())


@pytest.fixture(scope="session")
def rls_live(pg_conn: Any, pg_dsn: str) -> Any:
    """Row-level security as deployed: the database's catalog."""
    from policies.rls.live import read_live

    inventory = read_live(pg_conn, _safe_dsn(pg_dsn))
    pg_conn.rollback()
    return inventory


@pytest.fixture(scope="session")
def yaml_files(sources: Any) -> Any:
    """Every YAML file under --infra, parsed once (with line numbers); parse errors kept."""
    from policies.yamlfile import load_yaml_files

    errors: list[Any] = []
    files = load_yaml_files(sources, errors)
    return files, errors


@pytest.fixture(scope="session")
def secrets_static(terraform_project: Any, yaml_files: Any) -> Any:
    """Secrets as declared: Terraform secrets, rotations, keys; ExternalSecrets; clear values."""
    from policies.secrets.static import read_static

    return read_static(terraform_project, yaml_files[0])


@pytest.fixture(scope="session")
def secrets_live(aws_target: AwsTarget, secrets_static: Any) -> Any:
    """The deployed secrets matching the declared ones (metadata only, never values)."""
    from policies.secrets.live import read_live

    return live_read(aws_target, "Secrets live read", lambda: read_live(aws_target, secrets_static))


@pytest.fixture(scope="session")
def alarms_static(terraform_project: Any) -> Any:
    """CloudWatch alarms, their topic and add-ons as declared in --infra's Terraform."""
    from policies.alarms.static import read_static

    return read_static(terraform_project)


@pytest.fixture(scope="session")
def alarms_live(aws_target: AwsTarget) -> Any:
    """The deployed CloudWatch alarms and SNS topics."""
    from policies.alarms.live import read_live

    return live_read(aws_target, "Alarms live read", lambda: read_live(aws_target))


@pytest.fixture(scope="session")
def metrics_static(sources: Any, yaml_files: Any) -> Any:
    """Metrics as declared: app code, scrape jobs, ServiceMonitors, rules, dashboards."""
    from policies.metrics.static import read_static

    return read_static(sources, yaml_files[0], yaml_files[1])


PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "metrics"


@pytest.fixture(scope="session")
def prometheus_target(pytestconfig: pytest.Config, metrics_static: Any) -> Iterator[Any]:
    """--prometheus-url, or a real Prometheus scraping local stand-ins of infra's jobs: the
    platform's own apps (uvicorn) and the dcgm-exporter payload of fixtures/metrics."""
    from policies.prometheus import Prometheus

    url = pytestconfig.getoption("--prometheus-url")
    if url:
        import requests

        prometheus, cause = Prometheus(url.rstrip("/")), None
        try:
            prometheus.api("status/buildinfo")
        except (requests.RequestException, KeyError, ValueError) as exc:
            cause = " ".join(str(exc).split())[:200]
        if cause is not None:
            pytest.fail(f"cannot reach Prometheus at {url}: {cause}", pytrace=False)
        yield prometheus, []
        return
    stand_ins, stops = _stand_ins(metrics_static)
    jobs, without = [], []
    for job in metrics_static.jobs:
        address = next((a for producer, a in stand_ins.items() if producer in job.text), None)
        if address is None:
            without.append(job.name)
            continue
        config = {
            k: v
            for k, v in job.config.items()
            if k
            not in (
                "kubernetes_sd_configs",
                "relabel_configs",
                "static_configs",
                "scrape_interval",
                "scrape_timeout",
            )
        }
        labels = {label: "local" for label in job.target_labels}
        jobs.append(
            {
                **config,
                "job_name": job.name,
                "static_configs": [{"targets": [address], "labels": labels}],
            }
        )
    from policies.prometheus import start

    started = time.monotonic()
    prometheus = _bring_up(lambda: start(jobs), cleanup=lambda: [s() for s in stops])
    prometheus.stops[:0] = stops
    timings = pytestconfig.stash.setdefault(STACK_TIMINGS, {})
    timings["prometheus start"] = time.monotonic() - started
    try:
        started = time.monotonic()
        _await_scrapes(prometheus)
        timings["prometheus first scrapes"] = time.monotonic() - started
        yield prometheus, without
    finally:
        prometheus.stop()


def _stand_ins(metrics_static: Any) -> tuple[dict[str, str], list[Any]]:
    """Start each app found with prometheus_client metrics (its `app = FastAPI(...)` module)
    and serve the dcgm-exporter payload; returns producer -> address and the stop functions."""
    import re

    from policies.prometheus import serve_app, serve_file

    stand_ins: dict[str, str] = {}
    stops: list[Any] = []
    for app, where in metrics_static.apps.items():
        root = where.path.parents[1]
        entry = next(
            (
                p
                for p in sorted(root.rglob("*.py"))
                if re.search(r"^app\s*=\s*FastAPI\(", p.read_text(), re.M)
            ),
            None,
        )
        if entry is None:
            continue
        target = ".".join(entry.relative_to(root).with_suffix("").parts) + ":app"
        address, stop = _bring_up(
            lambda root=root, target=target: serve_app(root, target),
            cleanup=lambda: [s() for s in stops],
        )
        stand_ins[app] = address
        stops.append(stop)
    address, stop = serve_file(PAYLOADS / "dcgm-exporter.prom")
    stand_ins["dcgm-exporter"] = address
    stops.append(stop)
    return stand_ins, stops


def _await_scrapes(prometheus: Any, timeout: float = 30) -> None:
    """Until every target was scraped and two more samples exist (rate() needs two)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        targets = prometheus.api("targets")["activeTargets"]
        if targets and all(
            t.get("lastScrape", "").startswith("20") and t["health"] != "unknown" for t in targets
        ):
            time.sleep(2.5)
            return
        time.sleep(0.2)


@pytest.fixture(scope="session")
def pipeline_static(sources: Any, yaml_files: Any) -> Any:
    """Workflows (and zizmor's audit of them) and Helm install scripts under --infra."""
    from policies.pipeline.static import read_static

    return read_static(sources, yaml_files[0])


@pytest.fixture(scope="session")
def logging_static(yaml_files: Any) -> Any:
    """Fluent Bit configuration from Helm values under --infra."""
    from policies.logging.static import read_static

    return read_static(yaml_files[0])


@pytest.fixture(scope="session")
def manifests_static(yaml_files: Any) -> Any:
    """Every Kubernetes manifest under --infra validated against its schema."""
    from policies.k8s.schemas import validate_manifests

    version = load_catalog()["K8S-001"].params["kubernetes_version"]
    return validate_manifests(yaml_files[0], version)


@pytest.fixture(scope="session")
def kube_live(pytestconfig: pytest.Config) -> Any:
    """The cluster of --kube-context (or the kubeconfig's current context), read-only."""
    context = pytestconfig.getoption("--kube-context")
    try:
        from kubernetes import client, config
    except ImportError:
        pytest.skip("kubernetes client not installed: pip install kubernetes")
    from policies.k8s.live import read_live

    cause = None
    try:
        api = config.new_client_from_config(context=context)
        api.configuration.retries = 1
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        core.get_api_resources(_request_timeout=5)
    except Exception as exc:  # noqa: BLE001 - no kubeconfig, unknown context, unreachable
        cause = " ".join(str(exc).split())[:200]
    if cause is not None:
        pytest.skip(f"no reachable Kubernetes context ({context or 'current'}): {cause}")
    return read_live(context or "current-context", core, apps, client.CustomObjectsApi(api))
