"""The profile document (docs/profiles.md): parse, validate against the shipped JSON Schema, explain.

Validation gives plain-language messages with the path of the offending value, never a traceback:
the same list is shown on the form, returned by the API and printed by `render_profile`.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, ValidationError, validators

from contexts.templating import check_templates, format_path

SCHEMA_PATH = Path(__file__).parent / "schema" / "profile-v1.schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text())


@functools.cache
def _python_pattern(pattern: str) -> re.Pattern:
    # A schema's patterns are ECMA-262's: a final `$` ends the text. Python's `$` also matches
    # before a final line break, so "web\n" would pass as a one-line host name.
    return re.compile(
        pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith("\\$") else pattern
    )


def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not _python_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# The one validator of profile documents (the renderer checks templates' results with it too).
VALIDATOR = validators.extend(Draft202012Validator, {"pattern": _pattern})(SCHEMA)

# Bigger YAML than this is refused before parsing: no provider takes user-data over 64 KiB,
# and a document carries at most a few of them.
MAX_YAML_BYTES = 512 * 1024
# A valid document nests 4 levels deep (users[0].groups[0]) and has under 20,000 values (100
# users with 64 groups and 50 keys each, 500 packages, 100 files...); free-form cloud_config gets
# ample room below these limits. They keep every recursive step (the schema, JSON, the database)
# far from Python's recursion limit, a YAML alias bomb ("billion laughs") from expanding into
# memory, and the pure-Python YAML parser's time (some 20 µs a value) to about a second.
MAX_DEPTH = 32
MAX_VALUES = 50_000


class DocumentInvalid(ValueError):
    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


def parse_yaml(text: str) -> dict:
    """The document in a YAML (or JSON) text; DocumentInvalid with the line of a syntax error."""
    size = len(text.encode(errors="surrogatepass"))
    if size > MAX_YAML_BYTES:
        raise DocumentInvalid([f"the document is {size:,} bytes; the limit is {MAX_YAML_BYTES:,} bytes"])
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_node_graph(node)
        document = None if node is None else loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise DocumentInvalid([f"YAML syntax error at {where}{exc.problem}"]) from None
    except yaml.YAMLError as exc:
        raise DocumentInvalid([f"YAML error: {exc}"]) from None
    finally:
        loader.dispose()
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise DocumentInvalid(["the document must be a mapping of sections (schema: 1, users: ..., ...)"])
    document = _stringify_keys(document)
    problems = structure_problems(document)
    if problems:
        raise DocumentInvalid(problems)
    try:
        json.dumps(document, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise DocumentInvalid(
            [f"only text, numbers, true/false, lists and mappings are allowed ({exc})"]
        ) from None
    return document


def _check_node_graph(root: yaml.Node) -> None:
    """Refuse YAML whose aliases expand it past MAX_VALUES values or MAX_DEPTH levels, or make it
    refer to itself: on the composed nodes, before any Python object exists. (Nesting written
    out is refused while composing, by `_Loader`.)

    An alias is the node of its anchor again, so what each node expands to is counted once
    (memoised) and the check is linear in the text, however much the aliases multiply.
    """
    expanded: dict[int, int] = {}  # values a node stands for, aliases expanded
    height: dict[int, int] = {}  # collection levels at and below a node
    open_nodes: set[int] = set()  # on the path being walked: met again means it contains itself
    aliased = False
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, level, children_done = stack.pop()
        key = id(node)
        children = _yaml_children(node)
        if children_done:
            open_nodes.discard(key)
            expanded[key] = 1 + sum(expanded[id(child)] for child in children)
            height[key] = 1 + max((height[id(child)] for child in children), default=0)
            if expanded[key] > MAX_VALUES:
                raise DocumentInvalid([_too_many_values(aliased)])
        elif key in expanded:  # an alias of a node already counted
            aliased = True
            if level + height[key] - 1 > MAX_DEPTH:
                raise DocumentInvalid(
                    [f"{_where(node)}: nested too deeply (the limit is {MAX_DEPTH} levels)"]
                )
        elif key in open_nodes:
            raise DocumentInvalid([f"{_where(node)}: the value refers to itself through an alias"])
        elif isinstance(node, yaml.ScalarNode):
            expanded[key], height[key] = 1, 0
        else:
            open_nodes.add(key)
            stack.append((node, level, True))
            stack.extend((child, level + 1, False) for child in reversed(children))


def _yaml_children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return node.value
    return []


def _where(node: yaml.Node | yaml.Event) -> str:
    return f"line {node.start_mark.line + 1}, column {node.start_mark.column + 1}"


def _too_many_values(aliased: bool) -> str:
    if aliased:
        return f"the document's aliases (*name) expand it to over {MAX_VALUES:,} values; the limit is {MAX_VALUES:,}"
    return f"the document has over {MAX_VALUES:,} values; the limit is {MAX_VALUES:,}"


def structure_problems(document: Any) -> list[str]:
    """What no schema can be asked safely, as messages with paths: nesting deeper than MAX_DEPTH
    or more than MAX_VALUES values (recursive code, the schema's included, would fail on them),
    and text that cannot be stored or shown: lone surrogates (not Unicode) and NUL characters."""
    problems: list[str] = []
    count = 0
    stack: list[tuple[tuple, Any, int]] = [((), document, 1)]
    while stack:
        path, value, level = stack.pop()
        count += 1
        if count > MAX_VALUES:
            return [_too_many_values(aliased=False)]
        if isinstance(value, str):
            problem = _text_problem(value)
            if problem:
                problems.append(f"{format_path(path) or 'document'}: {problem}")
            continue
        if isinstance(value, dict):
            if level > MAX_DEPTH:
                return [f"{format_path(path)}: nested too deeply (the limit is {MAX_DEPTH} levels)"]
            items = []
            for key, item in value.items():
                count += 1
                problem = _text_problem(key) if isinstance(key, str) else None
                if problem:
                    problems.append(f"{format_path(path) or 'document'}: the key {key!r} {problem}")
                else:
                    items.append(((*path, key), item, level + 1))
            stack.extend(reversed(items))
        elif isinstance(value, list):
            if level > MAX_DEPTH:
                return [f"{format_path(path)}: nested too deeply (the limit is {MAX_DEPTH} levels)"]
            stack.extend(((*path, i), item, level + 1) for i, item in reversed(list(enumerate(value))))
    return problems


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "holds a NUL character, which is not allowed"
    try:
        text.encode()
    except UnicodeEncodeError as exc:
        return f"holds a lone surrogate (\\u{ord(text[exc.start]):04x}), which is not valid Unicode text"
    return None


class _Loader(yaml.SafeLoader):
    """YAML 1.1 without implicit dates: `2024-01-01` stays the text it looks like (JSON has no
    date type, and a document must store as JSON). Nesting deeper than MAX_DEPTH and more than
    MAX_VALUES values written out are refused as soon as they are read: PyYAML's composer
    recurses per level and its scanner slows with each level open (half a megabyte of `[`
    took seconds, then failed on Python's recursion limit), and each value costs time."""

    def __init__(self, stream):
        super().__init__(stream)
        self.level = 0
        self.composed = 0

    def compose_node(self, parent, index):
        self.composed += 1
        if self.composed > MAX_VALUES:
            raise DocumentInvalid([_too_many_values(aliased=False)])
        if not self.check_event(yaml.CollectionStartEvent):
            return super().compose_node(parent, index)
        self.level += 1
        try:
            if self.level > MAX_DEPTH:
                where = _where(self.peek_event())
                raise DocumentInvalid([f"{where}: nested too deeply (the limit is {MAX_DEPTH} levels)"])
            return super().compose_node(parent, index)
        finally:
            self.level -= 1


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _stringify_keys(value: Any) -> Any:
    # YAML allows `1: x` or `yes: x` keys; JSON (and our JSONField) only string keys.
    if isinstance(value, dict):
        return {str(k): _stringify_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify_keys(v) for v in value]
    return value


def dump_yaml(document: dict) -> str:
    """YAML for people: keys in the schema's order whatever the database did to them (PostgreSQL's
    jsonb sorts keys), so `name` comes first in a user and `schema` first in the document."""
    return yaml.safe_dump(
        canonical_order(document), sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
    )


def canonical_order(value: Any, schema: dict = SCHEMA) -> Any:
    if isinstance(value, list):
        return [canonical_order(v, schema.get("items", {})) for v in value]
    if not isinstance(value, dict) or "properties" not in schema:
        return value
    known = schema["properties"]
    ordered = {k: canonical_order(value[k], known[k]) for k in known if k in value}
    ordered.update((k, v) for k, v in value.items() if k not in known)
    return ordered


def validate(document: Any) -> list[str]:
    """All problems with a plain (or redacted) document, as messages; empty when valid."""
    if not isinstance(document, dict):
        return ["the document must be a mapping of sections"]
    structure = structure_problems(document)
    if structure:
        return structure
    schema_problems = [_explain(e) for e in sorted(VALIDATOR.iter_errors(document), key=_error_order)]
    if schema_problems:
        return schema_problems
    return _consistency_problems(document) + check_templates(document)


def ensure_valid(document: Any) -> dict:
    problems = validate(document)
    if problems:
        raise DocumentInvalid(problems)
    return document


def _error_order(error) -> tuple:
    return (len(error.absolute_path), [str(p) for p in error.absolute_path])


def _explain(error) -> str:
    path = format_path(tuple(error.absolute_path)) or "document"
    kind, value = error.validator, error.instance
    if kind == "maxLength":
        return f"{path}: too long ({len(value):,} characters; the limit is {error.validator_value:,})"
    if kind == "minLength":
        return f"{path}: must not be empty"
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"{path}: '{missing}' is required"
    if kind == "additionalProperties":
        extra = sorted(set(value) - set(error.schema.get("properties", {})))
        return f"{path}: unknown key{'s' if len(extra) > 1 else ''} {', '.join(map(repr, extra))}"
    if kind == "type":
        return f"{path}: must be {_a(error.validator_value)}, not {_a(_json_type(value))}"
    if kind == "enum":
        return f"{path}: must be one of {', '.join(map(str, error.validator_value))}"
    if kind == "const":
        return f"{path}: must be {error.validator_value!r}"
    if kind == "pattern":
        return f"{path}: {_short(value)} is not allowed here ({_pattern_hint(error.schema)})"
    if kind in ("maxItems", "maxProperties"):
        return f"{path}: too many entries (the limit is {error.validator_value})"
    if kind in ("minimum", "maximum"):
        return f"{path}: {error.message}"
    if kind == "oneOf":
        return f"{path}: must be a single-line text or empty"
    if kind == "propertyNames":
        return f"{path}: {_short(value)} has a key that is not a valid name (letters, digits, _)"
    return f"{path}: {error.message}"


def _pattern_hint(schema: dict) -> str:
    if schema.get("x-hint"):  # the schema's own words for what its pattern wants
        return schema["x-hint"]
    pattern = schema.get("pattern", "")
    if pattern.startswith("^[^"):
        return "no line breaks or NUL characters" if "\\n" in pattern else "no NUL characters"
    return f"expected to match {pattern}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _json_type(value: Any) -> str:
    for name, kind in (
        ("boolean", bool),
        ("integer", int),
        ("number", float),
        ("string", str),
        ("array", list),
        ("object", dict),
    ):
        if isinstance(value, kind):
            return name
    return "null"


def _a(kind: Any) -> str:
    names = {
        "object": "a mapping",
        "array": "a list",
        "string": "a text",
        "integer": "a whole number",
        "boolean": "true or false",
        "null": "empty",
        "number": "a number",
    }
    if isinstance(kind, list):
        return " or ".join(names.get(k, k) for k in kind)
    return names.get(kind, kind)


def _consistency_problems(document: dict) -> list[str]:
    problems = []
    names = [u["name"] for u in document.get("users", [])]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"users: the user {name!r} is listed twice")
    if "root" in names:
        problems.append("users: configure root in the root section, not as a user")
    for section, key in (("files", "path"), ("scripts", "name")):
        values = [item[key] for item in document.get(section, [])]
        for value in sorted({v for v in values if values.count(v) > 1}):
            problems.append(f"{section}: {value!r} appears twice")
    # Imported here: the service modules import the forms, which import this module.
    from contexts import services

    return problems + services.problems(document)
