"""Bad input: every file of fixtures/malformed gives exactly one clear failing result naming the
file and line; fuzzed input never makes a reader raise."""

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.catalog import load_catalog
from policies.metrics.static import read_static as read_metrics
from policies.pipeline.static import read_static as read_pipeline
from policies.registry import all_checks
from policies.rls.static import read_static as read_rls
from policies.secrets.static import read_static as read_secrets
from policies.sources import Sources
from policies.terraform import load_project
from policies.yamlfile import load_yaml_files
from tests.helpers import FIXTURES

CORPUS = sorted((FIXTURES / "malformed").iterdir())
CHECKS = all_checks()


def problems(directory: Path) -> list[tuple[str, int | None, str]]:
    """(file, line, message) of every source problem (SRC policies) and every PromQL finding
    under directory."""
    tree = Sources(directory)
    found = [(e.path.name, e.line, e.message) for e in tree.check_all()]
    metrics = read_metrics(tree, load_yaml_files(tree, []))
    found += [
        (f.location.path.name, f.location.line, f.actual)
        for f in CHECKS["MET-002"](metrics, load_catalog()["MET-002"])
    ]
    return found


@pytest.mark.parametrize("sample", CORPUS, ids=[p.name for p in CORPUS])
def test_malformed_file_gives_one_failure_with_file_and_line(sample, tmp_path):
    if sample.suffix == ".promql":
        name = "dashboard.json"
        (tmp_path / name).write_text(
            json.dumps(
                {
                    "title": "t",
                    "panels": [
                        {
                            "id": 1,
                            "type": "timeseries",
                            "targets": [{"expr": sample.read_text().strip()}],
                        }
                    ],
                }
            )
        )
    else:
        name = sample.name
        shutil.copy(sample, tmp_path / name)
    found = problems(tmp_path)
    assert len(found) == 1, found
    [(file, line, message)] = found
    assert file == name and isinstance(line, int) and line >= 1 and message, found


def test_corpus_is_large_and_covers_every_format():
    kinds = {p.suffix for p in CORPUS}
    assert len(CORPUS) >= 50 and kinds == {".tf", ".yaml", ".sql", ".json", ".promql"}


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    text=st.text(max_size=300),
    suffix=st.sampled_from([".tf", ".yaml", ".sql", ".json", ".py", ".tfvars", ".sh"]),
)
def test_readers_never_raise_on_fuzzed_input(text, suffix, tmp_path_factory):
    directory = tmp_path_factory.mktemp("fuzz")
    (directory / f"input{suffix}").write_text(text, encoding="utf-8", errors="surrogatepass")
    tree = Sources(directory)
    yaml_files = load_yaml_files(tree, [])
    project = load_project(tree)
    read_rls(tree)
    read_secrets(project, yaml_files)
    read_metrics(tree, yaml_files)
    read_pipeline(tree, yaml_files)
