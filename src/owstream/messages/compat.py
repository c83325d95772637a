"""Whether a topic's JSON Schema keeps what a released one promised: every message a released producer could
write is still accepted, and every field a released reader relies on is still there with its type.

Both schemas are flattened into fields named by their path (``FetchResult.summary.competitive.pc.tank.tier``;
``.*`` a map's values, ``[]`` an array's items, ``<type>`` one member of a union told apart by a
discriminator, as ``player-event``'s event types). Against the released one the current schema breaks
compatibility when, at the same version:

- a field was **removed** (a member of a discriminated union too: an event type);
- a field was **retyped**: the set of JSON types it accepts changed, narrower or wider;
- a field became **required** that was not (an old message without it is refused), or a new field is required;
- an enumerated value was **removed** (adding one is allowed: vocabularies grow);
- a bound was **narrowed** (``minimum``/``maximum``, lengths, item and property counts) or a ``pattern``
  changed: an old message may no longer validate.

A deliberate break is a new version: the version of its contract in ``messages/contracts.py`` goes to N+1
(its ``schema`` header with it), and the reader must still read version N (``fetch-results`` and
``hero-stats`` are kept forever and replayed). A lower version than the released one is always a break.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")  # raising one narrows
_UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")  # lowering one narrows
_JSON_TYPE = {str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}


@dataclass
class Field:
    types: set[str] = field(default_factory=set)
    required: bool = False
    enum: set[Any] | None = None  # None: any value of its types
    bounds: dict[tuple[str, str], Any] = field(default_factory=dict)  # (JSON type, keyword) -> bound
    unbounded: set[tuple[str, str]] = field(default_factory=set)  # an alternative of that type has no bound


def version(document: dict[str, Any]) -> tuple[str, int]:
    """``("fetch-result", 1)`` from a schema's title ``fetch-result/1``."""
    name, _, number = str(document.get("title", "")).partition("/")
    return name, int(number) if number.isdigit() else 0


def fields(document: dict[str, Any]) -> dict[str, Field]:
    """Every field of a schema document by its path."""
    out: dict[str, Field] = {}
    _walk(document, document, version(document)[0], out, required=True, depth=0)
    return out


def breaks(released: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """What ``current`` breaks of ``released`` (one line each); [] when it keeps every promise."""
    (name, old), (_, new) = version(released), version(current)
    if new < old:
        return [f"{name}: version {new} is older than the released {old}"]
    if new > old:
        return []  # a declared break: the reader reads both versions (see the module's docstring)
    before, now = fields(released), fields(current)
    out: list[str] = []
    for path, was in before.items():
        if path not in now:
            out.append(f"{path}: removed")
            continue
        out += _compare(path, was, now[path])
    for path, added in now.items():
        parent = path.rsplit(".", 1)[0] if "." in path else ""
        if path not in before and added.required and parent in before:
            out.append(f"{path}: a new required field (a message of the released version has none)")
    return out


def _compare(path: str, was: Field, now: Field) -> list[str]:
    out = []
    if now.types != was.types:
        out.append(f"{path}: retyped from {_types(was.types)} to {_types(now.types)}")
    if now.required and not was.required:
        out.append(f"{path}: now required")
    if was.enum is not None and now.enum is not None and was.enum - now.enum:
        out.append(f"{path}: values removed: {sorted(map(str, was.enum - now.enum))}")
    for key, bound in now.bounds.items():
        kind, keyword = key
        old = None if key in was.unbounded else was.bounds.get(key)
        if kind not in was.types:
            continue  # a type it did not accept: already reported as retyped
        if keyword == "pattern":
            if bound != old:
                out.append(f"{path}: pattern changed from {old!r} to {bound!r}")
        elif old is None or (keyword in _LOWER and bound > old) or (keyword in _UPPER and bound < old):
            out.append(f"{path}: {keyword} of {kind} narrowed from {old} to {bound}")
    return out


def _types(types: set[str]) -> str:
    return "|".join(sorted(types)) or "nothing"


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = str(node["$ref"]).rsplit("/", 1)[-1]
        rest = {k: v for k, v in node.items() if k != "$ref"}
        node = {**document.get("$defs", {})[name], **rest}
    return node


def _walk(document: dict[str, Any], node: Any, path: str, out: dict[str, Field], *, required: bool, depth: int) -> None:
    if depth > 64 or not isinstance(node, dict):
        return  # a recursive schema: what is below was seen above
    node = _resolve(document, node)
    here = out.setdefault(path, Field())
    here.required = here.required or required
    mapping = (node.get("discriminator") or {}).get("mapping")
    if mapping:
        here.types.add("object")
        for tag, ref in mapping.items():
            _walk(document, {"$ref": ref}, f"{path}<{tag}>", out, required=False, depth=depth + 1)
        return
    alternatives = node.get("anyOf") or node.get("oneOf")
    if alternatives:
        for alternative in alternatives:
            _walk(document, alternative, path, out, required=False, depth=depth + 1)
        return
    types = _node_types(node)
    here.types |= types
    values = node.get("enum", [node["const"]] if "const" in node else None)
    if values is not None:
        here.enum = (here.enum or set()) | {repr(v) for v in values}
    for kind in types:
        _bounds(here, node, kind)
    for name, child in (node.get("properties") or {}).items():
        _walk(document, child, f"{path}.{name}", out, required=name in node.get("required", ()), depth=depth + 1)
    if isinstance(node.get("additionalProperties"), dict):
        _walk(document, node["additionalProperties"], f"{path}.*", out, required=False, depth=depth + 1)
    if isinstance(node.get("items"), dict):
        _walk(document, node["items"], f"{path}[]", out, required=False, depth=depth + 1)


def _node_types(node: dict[str, Any]) -> set[str]:
    declared = node.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return set(declared)
    values = node.get("enum", [node["const"]] if "const" in node else [])
    return {_JSON_TYPE.get(type(v), "object") for v in values}


def _bounds(here: Field, node: dict[str, Any], kind: str) -> None:
    """Merge one alternative's bounds of ``kind`` into the field: the loosest of its alternatives counts."""
    for keyword in (*_LOWER, *_UPPER, "pattern"):
        key = (kind, keyword)
        if keyword not in node:
            here.unbounded.add(key)
            here.bounds.pop(key, None)
            continue
        if key in here.unbounded:
            continue
        bound = node[keyword]
        old = here.bounds.get(key)
        if old is None or keyword == "pattern":
            here.bounds[key] = bound
        else:
            here.bounds[key] = min(old, bound) if keyword in _LOWER else max(old, bound)
