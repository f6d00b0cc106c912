"""Grafana template variables in PromQL. Grafana interpolates `$var`, `${var}`, `${var:format}`
and the deprecated `[[var]]` before the query reaches Prometheus; to parse a dashboard's query
as written, each one is replaced by a stand-in of the type its position needs: a duration in a
range or after `offset`, a string-safe name inside a quoted string, an identifier where a metric
or label name belongs, a number elsewhere. Variable queries (`label_values(...)`,
`query_result(...)`, ...) are the data source's functions around PromQL, not PromQL."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DURATION, NUMBER, IDENTIFIER = "duration", "number", "identifier"
# Grafana's own variable pattern (public/app/features/variables/utils.ts, variableRegex).
VARIABLE = re.compile(
    r"\$(?P<plain>\w+)"
    r"|\[\[(?P<old>\w+?)(?::\w+)?\]\]"
    r"|\$\{(?P<braced>\w+)(?:\.[^:^}]+)?(?::[^}]+)?\}"
)
# Global variables: their values' type.
GLOBALS = {
    "__interval": DURATION,
    "__rate_interval": DURATION,
    "__range": DURATION,
    "__auto": DURATION,
    "__interval_ms": NUMBER,
    "__rate_interval_ms": NUMBER,
    "__range_s": NUMBER,
    "__range_ms": NUMBER,
    "__from": NUMBER,
    "__to": NUMBER,
}
_LABEL_LISTS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
_NAME_CHARS = re.compile(r"[A-Za-z0-9_:]")
_WINDOW = 64  # how far around a variable its position is read (keywords, a selector's brace)
_STAND_IN = {DURATION: "5m", NUMBER: "1"}
_FUNCTIONS = re.compile(
    r"^\s*(label_values|label_names|metrics|query_result)\s*\((.*)\)\s*$", re.DOTALL
)


@dataclass
class Substituted:
    """A query with its variables replaced; `names` maps each identifier stand-in to the
    variable as written (so nothing derived from a stand-in is taken for a real name)."""

    text: str
    names: dict[str, str] = field(default_factory=dict)


def stand_in_name(variable: str) -> str:
    return f"grafana_var_{variable}"


def substitute(expr: str, kinds: dict[str, str]) -> list[Substituted]:
    """The candidate texts of a query, its variables replaced by typed stand-ins (`kinds`: the
    dashboard's variables with a known type). A variable whose position does not tell its type
    is a number in the first candidate and an identifier in the second; a query without
    variables is its own only candidate."""
    first = _substitute(expr, kinds, NUMBER)
    if first.text == expr:
        return [first]
    second = _substitute(expr, kinds, IDENTIFIER)
    return [first] if second.text == first.text else [first, second]


def _substitute(expr: str, kinds: dict[str, str], ambiguous: str) -> Substituted:
    out: list[str] = []
    names: dict[str, str] = {}
    quote: str | None = None
    brackets = 0
    parens: list[str] = []  # the word before each open parenthesis
    i = 0
    while i < len(expr):
        char = expr[i]
        if quote is not None:
            if char == "\\" and quote != "`":
                out.append(expr[i : i + 2])
                i += 2
                continue
            if char == quote:
                quote = None
                out.append(char)
                i += 1
                continue
        match = VARIABLE.match(expr, i) if char in "$[" else None
        if match is not None:
            name = match.group("plain") or match.group("old") or match.group("braced")
            kind = (
                IDENTIFIER
                if quote is not None
                else _kind(expr, match, name, kinds, brackets, parens, ambiguous)
            )
            token = _STAND_IN.get(kind) or stand_in_name(name)
            if kind not in _STAND_IN:
                names[token] = match.group(0)
            out.append(token)
            i = match.end()
            continue
        if quote is None:
            if char in "\"'`":
                quote = char
            elif char == "[":
                brackets += 1
            elif char == "]":
                brackets = max(0, brackets - 1)
            elif char == "(":
                parens.append(_word_before(expr, i))
            elif char == ")" and parens:
                parens.pop()
        out.append(char)
        i += 1
    return Substituted("".join(out), names)


def _kind(
    expr: str,
    match: re.Match[str],
    name: str,
    kinds: dict[str, str],
    brackets: int,
    parens: list[str],
    ambiguous: str,
) -> str:
    """The type a variable outside a string takes at its position."""
    if brackets or _word_before(expr, match.start()) == "offset":
        return DURATION
    before = expr[match.start() - 1] if match.start() else ""
    after = expr[match.end()] if match.end() < len(expr) else ""
    if _NAME_CHARS.match(before) or _NAME_CHARS.match(after):
        return IDENTIFIER  # part of a name: ${metric}_total
    if parens and parens[-1] in _LABEL_LISTS:
        return IDENTIFIER
    if expr[match.end() : match.end() + _WINDOW].lstrip()[:1] in ("{", "["):
        return IDENTIFIER  # a selector: $metric{job="x"}, $metric[5m]
    if expr[max(0, match.start() - _WINDOW) : match.start()].rstrip().endswith("@"):
        return NUMBER  # a timestamp: x @ ${__to:date:seconds}
    return GLOBALS.get(name) or kinds.get(name) or ambiguous


def _word_before(expr: str, index: int) -> str:
    head = expr[max(0, index - _WINDOW) : index].rstrip()
    word = re.search(r"[A-Za-z_]\w*$", head)
    return word.group(0) if word else ""


def variable_kinds(variables: list[object]) -> dict[str, str]:
    """The type of each dashboard variable whose values say it: interval variables are
    durations, custom/constant/textbox variables whose values are all numbers (or durations)
    are numbers (durations), `metrics(...)` query variables are metric names."""
    kinds: dict[str, str] = {}
    for variable in variables:
        if not isinstance(variable, dict) or not isinstance(variable.get("name"), str):
            continue
        kind, query = variable.get("type"), variable.get("query")
        values = [v.strip() for v in query.split(",")] if isinstance(query, str) else []
        if kind == "interval":
            kinds[variable["name"]] = DURATION
        elif kind in ("custom", "constant", "textbox") and values:
            if all(_number(v) for v in values):
                kinds[variable["name"]] = NUMBER
            elif all(re.fullmatch(r"\d+(ms|[smhdwy])", v) for v in values):
                kinds[variable["name"]] = DURATION
        elif kind == "query":
            function = _FUNCTIONS.match(variable_query_text(variable) or "")
            if function is not None and function.group(1) == "metrics":
                kinds[variable["name"]] = IDENTIFIER
    return kinds


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def variable_query_text(variable: dict[str, object]) -> str | None:
    """A query variable's query as Grafana stores it: a string, or (Grafana 10+) an object
    whose `query` is the string."""
    query = variable.get("query")
    if isinstance(query, dict):
        query = query.get("query")
    return query if isinstance(query, str) and query.strip() else None


def inner_promql(query: str) -> str | None:
    """The PromQL inside a Prometheus variable query: the selector of `label_values(selector,
    label)`, the expression of `query_result(expr)`; None for `label_values(label)`,
    `label_names()` and `metrics(regex)`, which hold none. Any other text is a series query:
    PromQL itself."""
    match = _FUNCTIONS.match(query)
    if match is None:
        return query.strip()
    function, body = match.groups()
    if function == "query_result":
        return body.strip() or None
    if function == "label_values":
        args = split_args(body)
        return args[0].strip() if len(args) > 1 and args[0].strip() else None
    return None


def split_args(text: str) -> list[str]:
    """The comma-separated parts of an argument list, at its top level (commas inside strings,
    parentheses, brackets and braces do not split)."""
    parts: list[str] = []
    depth, quote, start, i = 0, None, 0, 0
    while i < len(text):
        char = text[i]
        if quote is not None:
            if char == "\\" and quote != "`":
                i += 1
            elif char == quote:
                quote = None
        elif char in "\"'`":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def is_variable_function(query: str) -> bool:
    """Whether a variable query is one of the Prometheus data source's functions."""
    return _FUNCTIONS.match(query) is not None
