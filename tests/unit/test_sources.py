"""Each file is parsed once per run; HCL parses are cached by content and parser version; a
static run stays light (no live client imported); xdist workers share one local stack."""

import ast
import os
import re
import shutil
import subprocess
import sys

import pytest

from policies import hcl_ts
from policies import sources as sources_module
from policies.metrics.static import read_static as read_metrics
from policies.pipeline.static import read_static as read_pipeline
from policies.pycode import find_modules
from policies.rls.static import read_static as read_rls
from policies.sources import Sources, parallel
from policies.terraform import load_project
from policies.yamlfile import load_yaml_files
from tests.helpers import ROOT, SUITE, run_suite

INFRA = ROOT / "infra"
LIVE_CLIENTS = ("boto3", "botocore", "kubernetes", "psycopg", "requests", "urllib3", "moto")


def _tf_tree(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(INFRA / "terraform", tree / "terraform")
    return tree


def test_second_run_reads_every_hcl_parse_from_the_cache(tmp_path):
    tree, cache = _tf_tree(tmp_path), tmp_path / "cache"
    cold = Sources(tree, cache)
    first = load_project(cold)
    warm = Sources(tree, cache)
    second = load_project(warm)
    assert cold.hcl_cached == 0 and cold.hcl_files > 10
    assert warm.hcl_cached == warm.hcl_files == cold.hcl_files
    assert [(r.address, r.instance, r.body) for r in second.resources] == [
        (r.address, r.instance, r.body) for r in first.resources
    ]


def test_changed_content_and_other_parser_versions_are_parsed_again(tmp_path, monkeypatch):
    tree, cache = _tf_tree(tmp_path), tmp_path / "cache"
    load_project(Sources(tree, cache))
    edited = tree / "terraform" / "modules" / "waf" / "main.tf"
    edited.write_text(edited.read_text().replace("limit", "limit ", 1))
    after_edit = Sources(tree, cache)
    load_project(after_edit)
    assert after_edit.hcl_cached == after_edit.hcl_files - 1
    monkeypatch.setattr(sources_module, "HCL_PARSER", "python-hcl2 99.0")
    other_parser = Sources(tree, cache)
    load_project(other_parser)
    assert other_parser.hcl_cached == 0


def test_corrupt_or_unwritable_cache_costs_a_parse_not_a_result(tmp_path):
    tree, cache = _tf_tree(tmp_path), tmp_path / "cache"
    expected = load_project(Sources(tree, cache)).resources
    for entry in cache.iterdir():
        entry.write_text('{"resource": [')  # half a file
    corrupt = Sources(tree, cache)
    assert len(load_project(corrupt).resources) == len(expected)
    assert corrupt.hcl_cached == 0
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache directory should be")
    assert len(load_project(Sources(tree, blocked)).resources) == len(expected)


def test_parse_errors_are_kept_for_every_reader(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "broken.tf").write_text('resource "aws_sns_topic" "t" {\n  name = \n}\n')
    first, second = load_project(Sources(tree, tmp_path / "c")), load_project(Sources(tree))
    assert [(e.path.name, e.line) for e in first.errors] == [
        (e.path.name, e.line) for e in second.errors
    ]
    assert len(first.errors) == 1


def test_every_file_is_parsed_once_whatever_the_number_of_readers(monkeypatch):
    parsed: list[str] = []
    real_hcl, real_ast = hcl_ts.loads, ast.parse

    def count_hcl(text):
        parsed.append(f"hcl:{hash(text)}")
        return real_hcl(text)

    def count_ast(text, filename="<unknown>", *args, **kwargs):
        parsed.append(f"py:{filename}")
        return real_ast(text, filename, *args, **kwargs)

    monkeypatch.setattr(hcl_ts, "loads", count_hcl)
    monkeypatch.setattr(sources_module.ast, "parse", count_ast)
    tree = Sources(INFRA)
    yaml_files = load_yaml_files(tree, [])
    load_project(tree)
    read_rls(tree)
    read_metrics(tree, yaml_files)
    read_pipeline(tree, yaml_files)
    find_modules(tree, {"make_pool", "user_session"})
    find_modules(tree, {"lambda_handler"})
    assert sorted(p for p in parsed if p.startswith("py:")) == sorted(
        f"py:{p}" for p in tree.files(".py")
    )
    assert len([p for p in parsed if p.startswith("hcl:")]) == len(tree.files(".tf", ".tfvars"))


def test_workers_start_parsing_at_their_own_share(tmp_path, monkeypatch):
    tree = _tf_tree(tmp_path)
    order: list[str] = []
    real = sources_module.Sources.text

    def record(self, path):
        order.append(path.name)
        return real(self, path)

    monkeypatch.setattr(sources_module.Sources, "text", record)
    second = Sources(tree, None, share=(1, 2))
    paths = second.files(".tf")
    second.load_hcl(paths)
    half = len(paths) // 2
    assert order[: len(paths)] == [p.name for p in paths[half:] + paths[:half]]


def test_many_files_parsed_in_worker_processes_give_the_serial_models_and_errors(tmp_path):
    # In a fresh interpreter: workers are forked only while no other thread runs, and earlier
    # tests of this process may have left servers' threads behind.
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one CPU: files are parsed serially")
    tree = tmp_path / "tree"
    modules = sorted((INFRA / "terraform" / "modules").rglob("*.tf"))
    for n in range(2 * (parallel.MIN_TEXTS + 16)):
        source = modules[(n // 2) % len(modules)]
        (tree / f"m{n}").mkdir(parents=True)
        text = source.read_text() + f"\nlocals {{\n  copy = {n // 2}\n}}\n"  # pairs alike
        (tree / f"m{n}" / source.name).write_text(text)
    (tree / "m0" / "broken.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = \n')
    (tree / "m1" / "crlf.tf").write_bytes(b'locals {\r\n  a = "b"\r\n}\r\n')  # python-hcl2's
    code = (
        "from pathlib import Path\n"
        "from tests.unit.test_sources import compare_parallel_and_serial\n"
        f"compare_parallel_and_serial(Path({str(tree)!r}), Path({str(tmp_path / 'cache')!r}))\n"
        "print('compared')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and "compared" in done.stdout, done.stderr[-3000:]


def compare_parallel_and_serial(tree, cache):
    """The parallel path's models, errors, fallbacks and cache entries against the serial
    path's, then the prefetch taken and the prefetch cancelled (run by the test above)."""
    sent: list[int] = []
    real = parallel.parse_texts

    def spy(texts, finish):
        models = real(texts, finish)
        sent.append(sum(m is not None for m in models))
        return models

    def read(sources):
        out = {}
        sources.load_hcl(sources.files(".tf"))
        for path in sources.files(".tf"):
            try:
                out[path] = sources.terraform(path)
            except sources_module.SourceError as exc:
                out[path] = exc.error
        return out, sources.hcl.parsed, sources.hcl.fallbacks

    parallel.parse_texts = spy
    in_workers = read(Sources(tree, cache))
    parallel.parse_texts = lambda texts, finish: [None] * len(texts)
    serial = read(Sources(tree))
    assert sent and sent[0] == parallel.MIN_TEXTS + 16, sent  # each distinct text once
    assert in_workers == serial
    warm = Sources(tree, cache)  # the workers stored what they parsed
    assert read(warm)[0] == serial[0] and warm.hcl_cached == len(serial[0]) - 2
    parallel.parse_texts = spy
    prefetched = Sources(tree)
    prefetched.prefetch_hcl()  # started at session start, taken by the first load_hcl
    assert prefetched._prefetch is not None
    assert read(prefetched) == serial and prefetched._prefetch is None
    assert len(sent) == 1  # nothing left to parse after the prefetch
    cancelled = Sources(tree)
    cancelled.prefetch_hcl()
    cancelled.cancel_prefetch()  # a session that ends before reading Terraform
    assert read(cancelled) == serial
    assert serial[2] and any(isinstance(v, sources_module.ParseError) for v in serial[0].values())


def test_a_directory_swapped_for_a_link_after_the_walk_is_not_read_through(tmp_path):
    tree, outside = tmp_path / "tree", tmp_path / "outside"
    (tree / "mod").mkdir(parents=True)
    (tree / "mod" / "main.tf").write_text('locals {\n  a = "in"\n}\n')
    (tree / "kept.tf").write_text('locals {\n  b = "in"\n}\n')
    (tree / "link.tf").symlink_to(tree / "kept.tf")  # a link inside the tree: read at its target
    outside.mkdir()
    (outside / "main.tf").write_text('locals {\n  a = "secret outside"\n}\n')
    found = Sources(tree)
    files = found.files(".tf")
    assert [p.name for p in files] == ["kept.tf", "link.tf", "main.tf"]
    shutil.rmtree(tree / "mod")
    (tree / "mod").symlink_to(outside)  # after the walk, before the read
    with pytest.raises(sources_module.SourceError) as refused:
        found.text(tree / "mod" / "main.tf")
    assert "resolves outside --infra" in refused.value.error.message
    assert found.text(tree / "link.tf") == found.text(tree / "kept.tf")


def test_static_run_imports_no_live_client(tmp_path):
    code = (
        "import sys, pytest\n"
        f"pytest.main(['-q', '-m', 'static', {str(SUITE)!r}, '--reports', {str(tmp_path)!r}])\n"
        f"print('loaded:', sorted(m for m in {LIVE_CLIENTS!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert "loaded: []" in done.stdout, done.stdout[-1500:]


def test_collecting_the_suite_loads_no_parser_a_tree_may_not_need(tmp_path):
    code = (
        "import sys, pytest\n"
        f"pytest.main(['-q', '--collect-only', {str(SUITE)!r}, '--infra', {str(tmp_path)!r}])\n"
        "print('loaded:', sorted(m for m in ('pglast', 'jsonschema', 'urllib3', 'hcl2')"
        " if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert "loaded: []" in done.stdout, done.stdout[-1500:]


def test_warm_run_reports_its_hcl_files_from_the_cache(tmp_path):
    args = (str(SUITE), "-m", "static", "--reports", str(tmp_path), "-k", "WAF-001")
    cache = ("-o", f"cache_dir={tmp_path / 'pytest-cache'}")
    cold, warm = run_suite(*args, *cache), run_suite(*args, *cache)
    files = len(Sources(INFRA).files(".tf", ".tfvars"))
    assert f"pingvas sources: {files} HCL files, 0 from the parse cache" in cold.stdout
    assert f"pingvas sources: {files} HCL files, {files} from the parse cache" in warm.stdout


def test_xdist_workers_share_one_local_stack(tmp_path):
    """Two workers, live tests on both, one moto and one terraform apply (a root with a topic
    and one alarm on it)."""
    root = tmp_path / "infra" / "terraform" / "envs" / "mini"
    root.mkdir(parents=True)
    (root / "main.tf").write_text(
        'provider "aws" {\n  region = "us-east-1"\n}\n\n'
        'resource "aws_sns_topic" "alarms" {\n  name = "mini-alarms"\n}\n\n'
        'resource "aws_cloudwatch_metric_alarm" "queue" {\n'
        '  alarm_name          = "mini-queue-depth"\n'
        '  namespace           = "AWS/SQS"\n'
        '  metric_name         = "ApproximateNumberOfMessagesVisible"\n'
        '  statistic           = "Maximum"\n'
        "  period              = 60\n"
        "  evaluation_periods  = 1\n"
        "  threshold           = 100\n"
        '  comparison_operator = "GreaterThanThreshold"\n'
        "  alarm_actions       = [aws_sns_topic.alarms.arn]\n"
        "}\n"
    )
    basetemp = tmp_path / "basetemp"
    done = run_suite(
        str(SUITE),
        "-vv",
        "-n",
        "2",
        "-m",
        "live",
        "-k",
        "test_live and ALM-00",
        "--infra",
        str(tmp_path / "infra"),
        "--reports",
        str(tmp_path / "reports"),
        "--basetemp",
        str(basetemp),
        "-o",
        f"cache_dir={tmp_path / 'cache'}",  # no recorded apply of an earlier run: a cold one
        timeout=600,
    )
    if "terraform not on PATH" in done.stdout:
        pytest.skip("terraform not on PATH: install Terraform >= 1.11")
    assert "terraform apply mini" in done.stdout, done.stdout[-2000:]
    assert not list(basetemp.glob("popen-gw*/local-stack*"))  # no worker brought up its own
    outcomes = re.findall(r"\[gw(\d)\] \[ *\d+%\] (\w+)", done.stdout)
    assert {worker for worker, _ in outcomes} == {"0", "1"}, done.stdout[-2000:]
    assert "ERROR" not in {outcome for _, outcome in outcomes}  # every worker reached moto
