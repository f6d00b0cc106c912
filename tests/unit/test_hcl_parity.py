"""The tree-sitter-hcl front end gives python-hcl2's model exactly: on every HCL file of infra/,
of the fixtures and of a synthetic tree, on targeted constructs, and on seeded random documents;
what it cannot settle goes to python-hcl2 (same model, same error line)."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import hcl2
import pytest

from policies import hcl_ts
from tests.helpers import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from synthetic import generate  # noqa: E402

SUFFIXES = (".tf", ".tfvars", ".hcl")


def first_difference(expected: Any, actual: Any, path: str = "$") -> str | None:
    """Where two models first differ (types compared too: True is not 1, 1 is not 1.0)."""
    if type(expected) is not type(actual):
        return f"{path}: {expected!r} != {actual!r}"
    if isinstance(expected, dict):
        if list(expected) != list(actual):
            return f"{path}: keys {list(expected)} != {list(actual)}"
        for key in expected:
            found = first_difference(expected[key], actual[key], f"{path}.{key}")
            if found:
                return found
    elif isinstance(expected, list):
        if len(expected) != len(actual):
            return f"{path}: {len(expected)} items != {len(actual)}"
        for index, (one, other) in enumerate(zip(expected, actual, strict=True)):
            found = first_difference(one, other, f"{path}[{index}]")
            if found:
                return found
    elif expected != actual:
        return f"{path}: {expected!r} != {actual!r}"
    return None


def outcome(parse: Any, text: str) -> tuple[str, Any]:
    try:
        return "model", parse(text)
    except Exception as exc:  # noqa: BLE001 - lark raises many types; compared by type and line
        return "error", (type(exc).__name__, getattr(exc, "line", None))


def parity(text: str) -> tuple[str | None, str]:
    """(the first difference between the front ends, or None; "tree-sitter" when tree-sitter
    gave the model itself, else why python-hcl2 settled it)."""
    frontend = hcl_ts.Frontend()
    expected = outcome(lambda t: hcl2.loads(t, with_meta=True), text)
    actual = outcome(frontend.loads, text)
    how = "tree-sitter" if frontend.parsed else ", ".join(frontend.fallbacks)
    if expected[0] != actual[0] or expected[0] == "error":
        return (None if expected == actual else f"{expected} != {actual}"), how
    return first_difference(expected[1], actual[1]), how


def hcl_files(*roots: Path) -> list[Path]:
    found = (p for root in roots for p in root.rglob("*") if p.name.endswith(SUFFIXES))
    return sorted(p for p in found if p.is_file())


def test_infra_and_the_synthetic_tree_parse_alike_and_by_tree_sitter(tmp_path):
    generate(tmp_path / "synthetic", 60)
    files = hcl_files(ROOT / "infra", tmp_path / "synthetic")
    assert len(files) > 80
    for path in files:
        difference, how = parity(path.read_text())
        assert difference is None, f"{path}: {difference}"
        assert how == "tree-sitter", f"{path}: python-hcl2 settled it ({how})"


def test_every_fixture_file_parses_alike():
    files = hcl_files(ROOT / "fixtures")
    assert len(files) > 50
    settled = []
    for path in files:
        difference, how = parity(path.read_text(errors="replace"))
        assert difference is None, f"{path}: {difference}"
        if how != "tree-sitter":
            settled.append(path)
    assert len(settled) < len(files) // 4  # the syntax-error fixtures, mostly


# Snippets tree-sitter must render itself, one construct each.
RENDERED = {
    "heredoc": "a = <<EOT\nline ${var.x}\n  %{ if y }z%{ endif }\nEOT\nb = 1\n",
    "heredoc trimmed": "a = <<-EOT\n    one ${x}\n      two \\n\n\n    EOT\n",
    "heredoc at the end of the file": "a = <<EOT\nx\nEOT",
    "heredoc in a call": "a = f(<<EOT\nx\nEOT\n, 1)\n",
    "template directives": (
        'a = "%{ for x in var.l }${x},%{ endfor }%{ if c }y%{ else }n%{ endif }"\n'
    ),
    "escapes": 'a = "q\\"b\\\\c\\n${f("x\\ty")} $${raw} $"\n',
    "nested for": "a = {for k, v in var.m : k => [for x in v : x.id if x != null]...}\n",
    "for over lines": "a = {\n  for k, v in var.m :\n  k => v\n  if v != null\n}\n",
    "splats": "a = [x[*].y[0].z, x.*.y, var.l[*], f(x)[*].n, x[*].a.0, x.0[*]]\n",
    "operators nest right": "a = null == x || !y && -z.w * 2 >= 3 ? true : false\n",
    "negative numbers": "a = [-1, - 1, -1.5, f(-0), 1 + -0, [\n-1]]\n",
    "comments in odd places": (
        "/* lead */ b /* c */ {\n  a = [\n    1, # one\n    /* two */ 2,\n  ] // end\n"
        "  c = f(/* c */ x, # c\n  y,\n  )\n  d = x ? # c\n  1 : /* c */ 2\n  # last\n}\n"
    ),
    "unicode": 'a = "ünïcode ✓ ${var.x}"\n# ✓\nb "ü" {}\n',
    "empty file": "",
    "comments only": "# nothing\n// here\n",
    "object over lines": (
        'a = {\n  b = 1\n  "c" = "${x}"\n  (var.k) = [\n    2,\n  ]\n  d.e = true,\n'
        '  "${y}z" : null\n}\n'
    ),
    "object quirks in calls": 'a = jsonencode({ a = [null, "${x}"], "b" = { c = 1.50 } })\n',
    "dynamic block": (
        'resource "aws_wafv2_web_acl" "w" {\n  dynamic "rule" {\n    for_each = var.rules\n'
        "    content {\n      name     = rule.value.name\n      priority = rule.key\n    }\n"
        "  }\n}\n"
    ),
    "meta-arguments": (
        'resource "aws_s3_bucket" "b" {\n  provider   = aws.west\n  count      = var.on ? 1 : 0\n'
        "  depends_on = [aws_iam_role.r]\n  lifecycle {\n    ignore_changes = [tags]\n"
        "    create_before_destroy = true\n  }\n}\n"
        'module "m" {\n  source    = "./m"\n  providers = {\n    aws = aws.west\n  }\n}\n'
    ),
    "types and validation": (
        'variable "x" {\n  type = map(object({ a = string, b = optional(number, 1) }))\n'
        "  validation {\n    condition     = length(var.x) > 0\n"
        '    error_message = "Must be set."\n  }\n}\n'
    ),
    "provider function": "a = provider::aws::arn_parse(var.arn).region\n",
    "repeated blocks and one-line blocks": 'b "x" { a = 1 }\nb "y" {}\nb {\n}\n\n',
}

# Snippets python-hcl2 settles: it reads or rejects them in its own way.
SETTLED = {
    "CRLF line endings": "a = 1\r\nb = 2\r\n",
    "newline before an operator": "a = x\n+ 1\n",
    "comment before a question mark": "a = x /* c */ ? 1 : 2\n",
    "comment in an interpolation": 'a = "${x /* c */}"\n',
    "strip markers": 'a = "${~ x ~}"\n',
    "quote in a directive": 'a = "%{ if x == "a" }y%{ endif }"\n',
    "identifier outside ASCII": "ünï = 1\n",
    "duplicate attribute": "a = 1\na = 2\n",
    "one-letter heredoc marker": "a = <<A\nx\nA\n",
    "exponent without a point": "a = 1e3\n",
    "legacy index after an attribute splat": "a = x.*.0\n",
    "syntax error": 'resource "a" "b" {\n  x = [1,\n}\n',
    "unclosed block": "b {\n  a = 1\n",
}


@pytest.mark.parametrize("name", RENDERED)
def test_constructs_tree_sitter_renders_as_python_hcl2_does(name):
    difference, how = parity(RENDERED[name])
    assert difference is None, difference
    assert how == "tree-sitter"


@pytest.mark.parametrize("name", SETTLED)
def test_constructs_python_hcl2_settles_give_its_model_or_its_error(name):
    difference, how = parity(SETTLED[name])
    assert difference is None, difference
    assert how != "tree-sitter"


def test_a_syntax_error_is_reported_at_python_hcl2s_line():
    text = 'a = 1\nb "x" {\n  c = [1,\n}\n'
    with pytest.raises(hcl_ts.HclSyntaxError) as found:
        hcl_ts.loads(text)
    assert found.value.line in (3, 4)
    with pytest.raises(Exception) as reference:
        hcl2.loads(text, with_meta=True)
    with pytest.raises(type(reference.value)) as settled:
        hcl_ts.Frontend().loads(text)
    assert settled.value.line == reference.value.line  # type: ignore[attr-defined]


def test_the_python_hcl2_front_end_never_asks_tree_sitter():
    frontend = hcl_ts.Frontend("python-hcl2")
    assert frontend.loads("a = x.y\n") == {"a": "${x.y}"}
    assert frontend.parsed == 0 and not frontend.fallbacks


TERMS = (
    "a", "var.x", "each.value", "count.index", "true", "null", "string", "x-1", "1", "-1",
    "1.50", '"s"', '"a\\"b"', '"${var.x}"', '"x-${a.b}"', '"$${lit}"', '"%{if a}b%{endif}"',
    '"ü"', "007", "-0",
)  # fmt: skip
GAPS = (" ", " ", "", "\n", " # c\n", " /* c */ ", "\t", " // c\n")


class RandomHcl:
    """Bodies of attributes, blocks and heredocs whose expressions mix every construct, with
    newlines and comments between tokens where HCL allows them (python-hcl2 not always)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def pick(self, *choices: str) -> str:
        return self.rng.choice(choices)

    def gap(self) -> str:
        return self.rng.choice(GAPS)

    def items(self, level: int) -> str:
        count = self.rng.randrange(4)
        return ("," + self.gap()).join(self.expression(level) for _ in range(count))

    def expression(self, level: int = 0) -> str:
        kind = self.rng.randrange(12) if level < 3 else 0
        more = level + 1
        if kind == 1:
            operator = self.pick("+", " - ", "*", "==", " && ", "||", ">=")
            return self.expression(more) + operator + self.gap() + self.expression(more)
        if kind == 2:
            then, other = self.expression(more), self.expression(more)
            return f"{self.expression(more)} ?{self.gap()}{then}{self.gap()}:{self.gap()}{other}"
        if kind == 3:
            return f"[{self.gap()}{self.items(more)}{self.pick('', ',')}{self.gap()}]"
        if kind == 4:
            elements = "".join(
                self.pick("k", '"k"', '"k${x}"', "(var.k)", "a.b", "1")
                + self.pick(" = ", ": ")
                + self.expression(more)
                + self.pick(",", ",\n", "\n")
                for _ in range(self.rng.randrange(3))
            )
            return "{" + self.gap() + elements + "}"
        if kind == 5:
            name, end = self.pick("f", "lookup", "provider::p::g"), self.pick("", ",", "...")
            return f"{name}({self.gap()}{self.items(more)}{end}{self.gap()})"
        if kind == 6:
            condition = self.pick("", f" if {self.expression(more)}")
            value = self.expression(more)
            return (
                f"[for {self.pick('v', 'k, v')} in {self.expression(more)} :{self.gap()}"
                f"{value}{condition}{self.gap()}]"
            )
        if kind == 7:
            key, value = self.expression(more), self.expression(more)
            tail = self.pick("", "...") + self.pick("", f" if {self.expression(more)}")
            return f"{{for k, v in {self.expression(more)} : {key} => {value}{tail}}}"
        if kind == 8:
            return self.pick("-", "!", "- ") + self.rng.choice(TERMS)
        if kind == 9:
            return f"({self.gap()}{self.expression(more)}{self.gap()})"
        if kind == 10:
            suffixes = [".a", "[0]", ".0", "[*]", ".*", '["k"]', f"[{self.expression(more)}]"]
            count = self.rng.randrange(1, 3)
            return self.pick("a", "(b)", "f(x)") + "".join(self.rng.choices(suffixes, k=count))
        if kind == 11:
            return f'"pre ${{{self.expression(more)}}} post"'
        return self.rng.choice(TERMS)

    def body(self, depth: int = 0) -> str:
        lines = []
        for index in range(self.rng.randrange(1, 4)):
            if depth < 2 and self.rng.random() < 0.3:
                labels = " ".join(self.pick('"l"', "l2", '"a b"') for _ in range(2))
                lines.append(f"b{index} {labels} {{\n{self.body(depth + 1)}}}\n")
            elif self.rng.random() < 0.1:
                marker = self.pick("<<EOT", "<<-EOT")
                lines.append(f"h{index} = {marker}\n  line ${{var.x}}\n    two\n  EOT\n")
            else:
                lines.append(f"a{index} = {self.expression()}\n")
        return "".join(lines)


def test_seeded_random_documents_parse_alike():
    documents = RandomHcl(18)
    rendered = 0
    for _ in range(400):
        text = documents.body()
        difference, how = parity(text)
        assert difference is None, f"{text!r}: {difference}"
        rendered += how == "tree-sitter"
    assert rendered > 200
