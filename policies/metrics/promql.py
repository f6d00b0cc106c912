"""PromQL through promql-parser: walking the AST, selectors, calls, the labels a query returns;
Grafana queries parsed with their template variables replaced by typed stand-ins."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import promql_parser as pp

from policies.metrics.templating import split_args, substitute

_CHILDREN = {
    pp.BinaryExpr: ("lhs", "rhs"),
    pp.AggregateExpr: ("param", "expr"),
    pp.ParenExpr: ("expr",),
    pp.UnaryExpr: ("expr",),
    pp.SubqueryExpr: ("expr",),
    pp.MatrixSelector: ("vector_selector",),
}
SELECTING = {"topk", "bottomk", "limitk", "limit_ratio"}
LABEL_KEEPING = {
    "rate",
    "irate",
    "increase",
    "delta",
    "idelta",
    "deriv",
    "abs",
    "ceil",
    "floor",
    "round",
    "clamp",
    "clamp_min",
    "clamp_max",
    "avg_over_time",
    "max_over_time",
    "min_over_time",
    "sum_over_time",
    "count_over_time",
    "last_over_time",
}


def parse(expr: str) -> tuple[Any, str | None]:
    try:
        return pp.parse(expr), None
    except (ValueError, RuntimeError) as exc:
        return None, str(exc)


@dataclass(frozen=True)
class Parsed:
    """A query's AST (None when it does not parse, with the parser's error), and the identifier
    stand-ins of its template variables with the variable as written."""

    node: Any
    error: str | None
    names: Mapping[str, str] = field(default_factory=dict)

    def templated(self, name: str | None) -> bool:
        """Whether a metric or label name is (part) a variable's stand-in, not a real name."""
        return bool(name) and any(stand_in in str(name) for stand_in in self.names)


def parse_query(expr: str, variables: Mapping[str, str] | None = None) -> Parsed:
    """A query as Prometheus receives it: a Grafana query (`variables`: its dashboard's typed
    variables; None for a rule) is parsed with its variables replaced by typed stand-ins."""
    return _parse_query(expr, None if variables is None else tuple(sorted(variables.items())))


@lru_cache(maxsize=4096)
def _parse_query(expr: str, variables: tuple[tuple[str, str], ...] | None) -> Parsed:
    if variables is None:
        node, error = parse(expr)
        return Parsed(node, error)
    first: Parsed | None = None
    for candidate in substitute(expr, dict(variables)):
        node, error = parse(candidate.text)
        if error is not None:
            for stand_in, written in candidate.names.items():
                error = error.replace(stand_in, written)
        parsed = Parsed(node, error, candidate.names)
        if error is None:
            return parsed
        first = first or parsed
    assert first is not None
    return first


def walk(node: Any) -> Iterator[Any]:
    if node is None:
        return
    yield node
    if isinstance(node, pp.Call):
        for arg in node.args:
            yield from walk(arg)
        return
    for attr in _CHILDREN.get(type(node), ()):
        yield from walk(getattr(node, attr))


def unwrap(node: Any) -> Any:
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    return node


def metric_name(selector: Any) -> str | None:
    """The metric of a vector selector (by name or by a __name__ equality matcher)."""
    if selector.name:
        return str(selector.name)
    for matcher in selector.matchers.matchers:
        if matcher.name == "__name__" and str(matcher.op).endswith("Equal"):
            return str(matcher.value)
    return None


def selectors(node: Any) -> list[Any]:
    return [n for n in walk(node) if isinstance(n, pp.VectorSelector)]


def calls(node: Any, *names: str) -> list[Any]:
    return [n for n in walk(node) if isinstance(n, pp.Call) and n.func.name in names]


def output_labels(node: Any, labels_of: Any) -> set[str] | None:
    """The labels the query's result series carry; None when unknown."""
    node = unwrap(node)
    if isinstance(node, pp.VectorSelector):
        return labels_of(metric_name(node))
    if isinstance(node, pp.MatrixSelector):
        return output_labels(node.vector_selector, labels_of)
    if isinstance(node, (pp.SubqueryExpr, pp.UnaryExpr)):
        return output_labels(node.expr, labels_of)
    if isinstance(node, pp.AggregateExpr):
        if str(node.op) in SELECTING:  # they pick series and keep every label
            return output_labels(node.expr, labels_of)
        modifier = node.modifier
        if modifier is None:
            return set()
        if str(modifier.type).endswith("By"):
            return set(modifier.labels)
        inner = output_labels(node.expr, labels_of)
        return None if inner is None else inner - set(modifier.labels)
    if isinstance(node, pp.Call):
        vectors = [
            a for a in node.args if not isinstance(unwrap(a), pp.NumberLiteral | pp.StringLiteral)
        ]
        if node.func.name == "histogram_quantile" and vectors:
            inner = output_labels(vectors[0], labels_of)
            return None if inner is None else inner - {"le"}
        if node.func.name in LABEL_KEEPING and vectors:
            return output_labels(vectors[0], labels_of)
        return None
    if isinstance(node, pp.BinaryExpr):
        for side in (node.lhs, node.rhs):
            if not isinstance(unwrap(side), pp.NumberLiteral):
                return output_labels(side, labels_of)
        return set()
    if isinstance(node, pp.NumberLiteral):
        return set()
    return None


def keeps_le(node: Any) -> bool:
    """Whether an aggregation keeps the le label (by le, or without anything but le)."""
    node = unwrap(node)
    if not isinstance(node, pp.AggregateExpr) or node.modifier is None:
        return False
    by = str(node.modifier.type).endswith("By")
    return ("le" in node.modifier.labels) == by


def quantile_fix(expr: str, index: int, call: Any, names: Mapping[str, str]) -> str:
    """The query's `index`-th histogram_quantile as it should be written: its own quantile and
    buckets, summed by le and its own grouping (variables as written in the query)."""
    blank = _blank_strings(expr)
    opens = [m.end() - 1 for m in re.finditer(r"\bhistogram_quantile\s*\(", blank)]
    close = _close(blank, opens[index]) if index < len(opens) else None
    args = split_args(expr[opens[index] + 1 : close]) if close is not None else []
    if len(args) != 2 or len(call.args) != 2:
        return "histogram_quantile(q, sum by (le) (rate(x_bucket[5m])))"
    quantile, inner = (a.strip() for a in args)
    return f"histogram_quantile({quantile}, {_summed_by_le(inner, unwrap(call.args[1]), names)})"


def _summed_by_le(text: str, node: Any, names: Mapping[str, str]) -> str:
    """The buckets summed keeping le: an aggregation keeps its own grouping (variables as
    written), anything else is summed by le."""
    body = _aggregate_body(text) if isinstance(node, pp.AggregateExpr) else None
    if body is None or node.param is not None:
        return f"sum by (le) ({text})"
    modifier = node.modifier
    labels = [names.get(lb, lb) for lb in (modifier.labels if modifier else []) if lb != "le"]
    if modifier is not None and str(modifier.type).endswith("Without"):
        return f"sum without ({', '.join(labels)}) ({body})" if labels else f"sum by (le) ({body})"
    return f"sum by ({', '.join(['le', *labels])}) ({body})"


def _aggregate_body(text: str) -> str | None:
    """The argument of an aggregation written `op [by|without (...)] (body) [by|without (...)]`,
    its enclosing parentheses removed."""
    blank = _blank_strings(text)
    while blank.startswith("(") and _close(blank, 0) == len(blank) - 1:
        text, blank = text[1:-1].strip(), blank[1:-1].strip()
    head = re.match(r"[A-Za-z_]\w*\s*(?:(?:by|without)\s*\([^()]*\)\s*)?\(", blank)
    close = _close(blank, head.end() - 1) if head else None
    return text[head.end() : close].strip() if head and close is not None else None


def _blank_strings(text: str) -> str:
    """The text with the contents of its string literals blanked (same length)."""
    out, quote, i = list(text), None, 0
    while i < len(text):
        char = text[i]
        if quote is not None:
            if char == "\\" and quote != "`":
                out[i : i + 2] = " " * len(out[i : i + 2])
                i += 2
                continue
            if char == quote:
                quote = None
            else:
                out[i] = " "
        elif char in "\"'`":
            quote = char
        i += 1
    return "".join(out)


def _close(text: str, start: int) -> int | None:
    """The index of the bracket closing the one at `start` (strings already blanked)."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] in "([{":
            depth += 1
        elif text[i] in ")]}":
            depth -= 1
            if depth == 0:
                return i
    return None
