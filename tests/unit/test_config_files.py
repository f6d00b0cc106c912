"""The files named for the suite: the tree's own `pingvas-policy.toml` and the waivers file it
names are read as every tree file is (inside --infra, no link out), a `--config` or `--waivers`
the user names as given; any of them that cannot be used is one line naming the file (and line)
that quotes no secret, never a traceback or a hang; the waivers file is held to the YAML limits
of the tree's files. Each run is the static tier of one family, on a tree of one file."""

import time

import pytest

from tests.helpers import SUITE, junit_failures, run_suite

CANARY = "c4n4ry-0f-the-ci-machine-5e3f9a"
KEY = "AKIAIOSFODNN7CANARY0"  # a fake access key
CREDENTIALS = f"[default]\naws_secret_access_key = {CANARY}\n"  # a YAML error at line 2
WAIVER = "- id: WAF-006\n  resource: '*'\n  reason: r\n  owner: o\n  expires: {expires}\n"


def static(tree, tmp_path, *args):
    """The sources family's static tests on `tree`: the run and the text of every output."""
    reports = tmp_path / "r"
    done = run_suite(
        str(SUITE),
        "-m",
        "static",
        "--family",
        "sources",
        "-p",
        "no:cacheprovider",
        "--infra",
        str(tree),
        "--reports",
        str(reports),
        *args,
        timeout=120,
    )
    outputs = {"terminal": done.stdout + done.stderr}
    if reports.is_dir():
        outputs.update({p.name: p.read_text() for p in reports.iterdir()})
    return done, outputs


def a_tree(tmp_path, config=None):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "main.tf").write_text('variable "x" {}\n')
    if config is not None:
        (tree / "pingvas-policy.toml").write_text(config)
    return tree


def outside(tmp_path, name, text):
    machine = tmp_path / "ci-machine"
    machine.mkdir(exist_ok=True)
    (machine / name).write_text(text)
    return machine / name


def test_a_tree_config_that_links_out_of_the_tree_is_refused_unread(tmp_path):
    tree = a_tree(tmp_path)
    (tree / "pingvas-policy.toml").symlink_to(
        outside(tmp_path, "settings.toml", f'require = ["{CANARY}"]\n')
    )
    done, outputs = static(tree, tmp_path)
    assert done.returncode == 4, outputs["terminal"]
    assert f"{tree / 'pingvas-policy.toml'}: resolves outside --infra" in done.stderr
    assert "Traceback" not in outputs["terminal"]
    for name, text in outputs.items():
        assert CANARY not in text, name


@pytest.mark.parametrize("named", ["relative", "absolute", "link"])
def test_a_waivers_file_the_tree_config_names_outside_the_tree_is_refused_unread(tmp_path, named):
    secret = outside(tmp_path, "credentials", CREDENTIALS)
    tree = a_tree(tmp_path)
    where = {"relative": "../ci-machine/credentials", "absolute": str(secret)}.get(named)
    if where is None:
        where = "waivers.yaml"
        (tree / where).symlink_to(secret)
    (tree / "pingvas-policy.toml").write_text(f'waivers = "{where}"\n')
    done, outputs = static(tree, tmp_path)
    assert done.returncode == 1, outputs["terminal"]
    refused = tree / where if named == "link" else secret
    failure = junit_failures(tmp_path / "r" / "junit.xml")["test_waivers_valid"]
    assert f"waivers {refused}: resolves outside --infra" in failure
    assert "Traceback" not in outputs["terminal"]
    for name, text in outputs.items():
        assert CANARY not in text, name


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (f'require = ["waf"]\n[default]\naws_secret_access_key = {KEY}/wJalrXUtnFEMI\n', 3),
        (f'require = ["waf"]\n\naws_secret_access_key = "{KEY}" x\n', 3),
        (f'require = ["{KEY}"]\n', 1),
        ("[policy.WAF-007]\nmax_limit = 1" + "0" * 5000 + "\n", 2),
        ("exclude = " + "[" * 3000 + "\n", 1),
    ],
    ids=["syntax-error", "after-a-string", "unknown-family", "huge-integer", "deep-array"],
)
def test_a_bad_tree_config_is_one_line_naming_file_and_line_without_its_values(
    tmp_path, text, line
):
    tree = a_tree(tmp_path, text)
    done, outputs = static(tree, tmp_path)
    assert done.returncode == 4, outputs["terminal"]
    errors = [t for t in done.stderr.splitlines() if "pingvas-policy.toml" in t]
    assert len(errors) == 1 and f"{tree / 'pingvas-policy.toml'}:{line}: " in errors[0], errors
    assert KEY not in outputs["terminal"] and "Traceback" not in outputs["terminal"]


def alias_bomb(levels, use):
    """A waiver whose extra key anchors `levels` lists of ten aliases of the one before
    (10**levels nodes once expanded); `use`: its expires is the last of them."""
    anchors = ['    - &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    anchors += [f"    - &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, levels + 1)]
    expires = f"*a{levels}" if use else "2099-01-01"
    body = WAIVER.format(expires=expires).replace("  expires:", "  anchors:\n{}\n  expires:")
    return body.format("\n".join(anchors))


@pytest.mark.parametrize(("levels", "use"), [(9, False), (6, True)], ids=["unused", "expires"])
def test_an_alias_bomb_waivers_file_is_one_failure_naming_it(tmp_path, levels, use):
    waivers = outside(tmp_path, "waivers.yaml", alias_bomb(levels, use))
    started = time.monotonic()
    done, outputs = static(a_tree(tmp_path), tmp_path, "--waivers", str(waivers))
    assert time.monotonic() - started < 30
    assert done.returncode == 1, outputs["terminal"]
    failures = junit_failures(tmp_path / "r" / "junit.xml")
    largest = 6 + levels + use  # the line of the alias with the largest expansion
    assert f"waivers {waivers}:{largest}: excessive aliasing" in failures["test_waivers_valid"]
    assert "Traceback" not in outputs["terminal"]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (WAIVER.format(expires="2027-01-01 10:00:00"), 5),
        ("- id: " + "[" * 3000 + "]" * 3000 + "\n", 1),
        (WAIVER.format(expires="2027-01-01") + "- id: WAF-007\n  resource: x\n  reason: r\n", 6),
    ],
    ids=["datetime", "deep", "second-lacks-owner"],
)
def test_a_bad_waivers_file_is_one_line_naming_file_and_line(tmp_path, text, line):
    waivers = outside(tmp_path, "waivers.yaml", text)
    done, outputs = static(a_tree(tmp_path), tmp_path, "--waivers", str(waivers))
    assert done.returncode == 1, outputs["terminal"]
    failure = junit_failures(tmp_path / "r" / "junit.xml")["test_waivers_valid"]
    assert f"waivers {waivers}:{line}: " in failure, failure
    assert "Traceback" not in outputs["terminal"]
