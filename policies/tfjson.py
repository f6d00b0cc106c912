"""Terraform's JSON configuration syntax (`*.tf.json`, `*.tfvars.json`) in python-hcl2's shape,
so one Terraform model reads both syntaxes.

python-hcl2 gives every block type a list of blocks, a labelled block as `{label: body}`, and
each body `__start_line__`/`__end_line__`; expressions stay as "${...}" strings, which is also
how the JSON syntax writes them. The JSON syntax does not say which objects are nested blocks
and which are object-valued attributes (Terraform decides with the provider's schema): here an
object, or a list of objects, inside a resource, data, provider or terraform body is a nested
block unless its name is one of the object-valued attributes below; module arguments, locals,
outputs and variable defaults are always attributes.
See https://developer.hashicorp.com/terraform/language/syntax/json."""

from __future__ import annotations

from typing import Any

META_KEYS = ("__start_line__", "__end_line__")
# top-level block type -> number of labels
LABELS = {
    "resource": 2,
    "data": 2,
    "ephemeral": 2,
    "variable": 1,
    "output": 1,
    "module": 1,
    "provider": 1,
    "check": 1,
    "locals": 0,
    "terraform": 0,
    "moved": 0,
    "import": 0,
    "removed": 0,
}
# Bodies whose objects are attributes, except for these nested block types.
ATTRIBUTE_BODIES = {
    "variable": {"validation"},
    "output": {"precondition"},
    "module": set(),
    "locals": set(),
    "moved": set(),
    "import": set(),
    "removed": {"lifecycle"},
    "check": {"assert"},
}
# Labelled nested block types: one label each.
LABELLED_NESTED = {"dynamic", "provisioner", "backend", "cloud"}
# Object-valued attributes of resources and providers (not nested blocks).
OBJECT_ATTRIBUTES = {
    "tags",
    "tags_all",
    "variables",
    "parameters",
    "triggers",
    "triggers_replace",
    "labels",
    "annotations",
    "input",
    "environment_variables",
}


def to_hcl_shape(document: dict[str, Any], variables_only: bool = False) -> dict[str, Any]:
    """A parsed .tf.json document (objects carrying start_line/end_line) as python-hcl2 gives
    the same configuration; `variables_only` for .tfvars.json (plain assignments)."""
    if variables_only:
        return {k: _plain(v) for k, v in document.items()}
    shaped: dict[str, Any] = {}
    for block_type, value in document.items():
        if block_type == "//":
            continue  # the JSON syntax's comment property
        labels = LABELS.get(block_type)
        if labels is None:
            shaped[block_type] = _plain(value)
            continue
        blocks = shaped.setdefault(block_type, [])
        for item in _each(value):
            blocks.extend(_labelled(block_type, item, labels))
    return shaped


def _labelled(block_type: str, value: Any, labels: int) -> list[Any]:
    """A block type's value with `labels` levels of labels, as python-hcl2's list items."""
    if labels == 0:
        return [_body(block_type, value)]
    if not isinstance(value, dict):
        return []
    out = []
    for label, inner in value.items():
        if label == "//":
            continue
        for item in _each(inner):
            for nested in _labelled(block_type, item, labels - 1):
                out.append({label: nested})
    return out


def _body(block_type: str, value: Any) -> dict[str, Any]:
    """A block body (always a dict with its lines, whatever the JSON holds)."""
    body: dict[str, Any] = {}
    if not isinstance(value, dict):
        return _with_lines(body, value)
    attributes_only = ATTRIBUTE_BODIES.get(block_type)
    for key, item in value.items():
        if key == "//":
            continue
        if block_type == "terraform" and key == "required_providers":
            body[key] = [_with_lines({k: _plain(v) for k, v in _first(item).items()}, item)]
        elif key in LABELLED_NESTED and _is_block(key, item):
            body[key] = [
                {label: _nested(key, inner)}
                for entry in _each(item)
                for label, values in entry.items()
                if label != "//"
                for inner in _each(values)
            ]
        elif attributes_only is not None and key not in attributes_only:
            body[key] = _plain(item)
        elif _is_block(key, item):
            body[key] = [_body("nested", inner) for inner in _each(item)]
        else:
            body[key] = _plain(item)
    return _with_lines(body, value)


def _nested(kind: str, value: Any) -> dict[str, Any]:
    """A labelled nested block: `dynamic` keeps its `content` as a block list."""
    body = _body("nested", value)
    if kind == "dynamic" and isinstance(value, dict) and isinstance(value.get("content"), dict):
        body["content"] = [_body("nested", value["content"])]
    return body


def _is_block(key: str, value: Any) -> bool:
    if key in OBJECT_ATTRIBUTES:
        return False
    if isinstance(value, dict):
        return True
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _each(value: Any) -> list[Any]:
    """The JSON syntax allows an array of objects wherever an object of blocks may appear."""
    return value if isinstance(value, list) else [value]


def _first(value: Any) -> dict[str, Any]:
    if isinstance(value, list):
        return value[0] if value and isinstance(value[0], dict) else {}
    return value if isinstance(value, dict) else {}


def _with_lines(body: dict[str, Any], source: Any) -> dict[str, Any]:
    body["__start_line__"] = getattr(source, "start_line", 1) or 1
    body["__end_line__"] = getattr(source, "end_line", 1) or 1
    return body


def _plain(value: Any) -> Any:
    """An attribute value: plain dicts and lists, no line markers."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
