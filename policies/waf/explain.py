"""`--waf-explain "POST /api/generate body_size=16384"`: what the tree's Web ACL does to one
request, and why (the simulator's verdict and trace), with no test run.

The request is METHOD URI then key=value words: body_size, body, ip, country, query,
header:NAME=VALUE, managed:GROUP=RULE[,RULE] (an opaque group's rules that match; empty for
none), rule:NAME=true|false (an ACL rule's SQLi/XSS statements), acl=GLOB."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from policies.sources import Sources
from policies.waf.simulator import Verdict

WHERE = Path("--waf-explain")
TEXT_KEYS = ("body", "ip", "country", "query")


def explain(spec: str, run: Any) -> tuple[str, Verdict | None]:
    """The verdict and its trace as text (or what is wrong with the request), and the verdict
    when one was reached."""
    from policies.registry import families
    from policies.tree import Tree
    from policies.waf.cases import chosen_acl, parse_cases
    from policies.waf.simulator import Simulator

    case, problems = _case(spec)
    cases, errors = parse_cases({"cases": [case]}, WHERE) if case else ([], [])
    problems += [f"{e.key}: {e.message}" for e in errors]
    if problems or not cases:
        return "--waf-explain: " + "; ".join(problems or ["no request"]), None
    sources = Sources(
        run.infra,
        exclude=run.config.exclude,
        read_fetched_modules=run.config.read_fetched_modules,
    )
    tree = Tree(sources, run.plan, run.waf_cases)
    inventory = families()["waf"].read(tree)
    acl, problem = chosen_acl(cases[0], inventory)
    if acl is None:
        return f"--waf-explain: {problem}", None
    namespaces = run.catalog["WAF-015"].params["group_label_namespaces"]
    verdict = Simulator(acl, inventory, namespaces).evaluate(
        cases[0].request, 0.0, cases[0].managed, cases[0].opaque
    )
    return f"{acl.name} ({acl.location}): {verdict.render()}", verdict


def _case(spec: str) -> tuple[dict[str, Any] | None, list[str]]:
    try:
        words = shlex.split(spec)
    except ValueError as exc:
        return None, [str(exc)]
    if len(words) < 2:
        return None, ['expected "METHOD URI [key=value ...]"']
    request: dict[str, Any] = {"method": words[0].upper(), "uri": words[1]}
    case: dict[str, Any] = {"name": "explain", "request": request, "expect": {"action": "allow"}}
    problems = []
    for word in words[2:]:
        key, equals, value = word.partition("=")
        kind, _, name = key.partition(":")
        if not equals:
            problems.append(f"{word}: expected key=value")
        elif key == "body_size":
            if not value.isdigit():
                problems.append(f"{word}: expected a number of bytes")
            request["body_size"] = int(value) if value.isdigit() else 0
        elif key in TEXT_KEYS:
            request[key] = value
        elif key == "acl":
            case["acl"] = value
        elif kind == "header" and name:
            request.setdefault("headers", {})[name] = value
        elif kind == "managed" and name:
            case.setdefault("managed", {})[name] = [r for r in value.split(",") if r]
        elif kind == "rule" and name and value in ("true", "false"):
            case.setdefault("rules", {})[name] = value == "true"
        else:
            problems.append(f"{word}: unknown key")
    return case, problems
