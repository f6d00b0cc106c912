"""PromQL through promql-parser: walking the AST, selectors, calls, the labels a query returns."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import promql_parser as pp

_CHILDREN = {
    pp.BinaryExpr: ("lhs", "rhs"),
    pp.AggregateExpr: ("expr",),
    pp.ParenExpr: ("expr",),
    pp.UnaryExpr: ("expr",),
    pp.SubqueryExpr: ("expr",),
    pp.MatrixSelector: ("vector_selector",),
}
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


def walk(node: Any) -> Iterator[Any]:
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
    if isinstance(node, pp.SubqueryExpr | pp.UnaryExpr):
        return output_labels(node.expr, labels_of)
    if isinstance(node, pp.AggregateExpr):
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
