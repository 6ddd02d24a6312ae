"""Template values in profile documents: Jinja2 in a sandbox that bounds memory and time.

A string value may say `{{ cluster.name }}-{{ instance.index }}`; it is evaluated per instance at
launch time with the variables of docs/profiles.md. Unknown names are errors, found at save time by
evaluating every template against sample variables (`check_templates`). What templates may use,
and their limits, is in `contexts.sandbox` and docs/templates.md.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any

from jinja2 import TemplateError

from contexts.sandbox import MAX_LENGTH, Budget, ProfileEnvironment, TemplateRefused, evaluation

# Comments are switched off: `{#` is common in shell (`${#array[@]}`) and must not start one.
_env = ProfileEnvironment(
    autoescape=False,
    keep_trailing_newline=True,
    comment_start_string="{#portal-comment#",
    comment_end_string="#portal-comment#}",
)

# Keys that never hold templates, and list items that may opt out with `template: false`.
_NOT_TEMPLATED_KEYS = {"schema"}
_OPT_OUT_SECTIONS = {"files": "content", "scripts": "body"}


class TemplateProblem(Exception):
    """A template that cannot be evaluated; `path` says where in the document."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def is_template(value: str) -> bool:
    return "{{" in value or "{%" in value


@functools.lru_cache(maxsize=4096)
def _compile(source: str):
    return _env.from_string(_env.limited_tree(source))


def evaluate(source: str, variables: Mapping[str, Any], path: str = "value") -> str:
    """The template's output; a TemplateProblem when it fails or goes over a limit.

    Evaluations inside `render_document` or `check_templates` share the document's budget.
    """
    if not is_template(source):
        return source
    with evaluation() as budget:
        try:
            return _output(_compile(source), variables, budget)
        except TemplateError as exc:
            raise TemplateProblem(path, _explain(exc)) from None
        except Exception as exc:  # noqa: BLE001 - a template is user code: whatever it raises is its problem
            raise TemplateProblem(path, f"cannot evaluate the template ({exc})") from None


def _output(template, variables: Mapping[str, Any], budget: Budget) -> str:
    """Streamed, so a loop's output stops at the limit instead of filling memory first."""
    parts, size = [], 0
    for part in template.generate(variables):
        size += len(part)
        if size > MAX_LENGTH:
            raise TemplateRefused(f"the output would be over the limit of {MAX_LENGTH:,} characters")
        parts.append(part)
    budget.spend(size)
    return "".join(parts)


def _explain(exc: TemplateError) -> str:
    message = exc.message or exc.__class__.__name__
    if exc.__class__.__name__ == "UndefinedError":
        return f"unknown template variable ({message})"
    if exc.__class__.__name__ == "TemplateSyntaxError":
        return f"template syntax error: {message}"
    return message


def format_path(parts: tuple) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _is_skipped(mapping: Mapping, path: tuple, key: str) -> bool:
    if not path:
        return key in _NOT_TEMPLATED_KEYS
    return len(path) == 2 and _OPT_OUT_SECTIONS.get(path[0]) == key and mapping.get("template") is False


def walk_strings(document: Any, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """Every templated string of a document with its path (opted-out bodies skipped)."""
    if isinstance(document, str):
        yield path, document
    elif isinstance(document, Mapping):
        for key, value in document.items():
            if not _is_skipped(document, path, key):
                yield from walk_strings(value, (*path, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from walk_strings(value, (*path, index))


def render_document(document: Any, variables: Mapping[str, Any]) -> Any:
    """A copy of `document` with every templated string evaluated, on one budget."""
    with evaluation():
        return _render_document(document, variables, ())


def _render_document(document: Any, variables: Mapping[str, Any], path: tuple) -> Any:
    if isinstance(document, str):
        return evaluate(document, variables, format_path(path))
    if isinstance(document, Mapping):
        out = {}
        for key, value in document.items():
            skipped = _is_skipped(document, path, key)
            out[key] = value if skipped else _render_document(value, variables, (*path, key))
        return out
    if isinstance(document, list):
        return [_render_document(value, variables, (*path, i)) for i, value in enumerate(document)]
    return document


def check_templates(document: Any) -> list[str]:
    """Validation messages for templates that would fail at launch (unknown names, bad syntax,
    limits), all evaluated on one budget: once it is spent, the rest are not evaluated."""
    variables = sample_variables()
    problems = []
    with evaluation() as budget:
        for path, value in walk_strings(document):
            try:
                evaluate(value, variables, format_path(path))
            except TemplateProblem as exc:
                problems.append(str(exc))
                if budget.exhausted:
                    break
    return problems


class _AnyRole(dict):
    """`roles.<any name>` at save time: the cluster definition names the roles, not the profile."""

    def __missing__(self, name):
        return _role_addresses(["192.0.2.10", "192.0.2.11"])


def _role_addresses(addresses: list[str]) -> dict:
    return {"addresses": list(addresses), "address": addresses[0] if addresses else ""}


def sample_variables() -> dict[str, Any]:
    """The variables a template may use, with example values (docs/profiles.md).

    `instance.token` is the instance's check-in token, for scripts that call the instance API
    (`/api/v1/instance/`) themselves rather than through the `portal-instance` helper.
    """
    return {
        "cluster": {"name": "demo", "id": 1, "secret": "sample-cluster-secret"},
        "role": {"name": "node"},
        "instance": {"index": 0, "name": "demo-node-0", "token": "sample-instance-token"},
        "roles": _AnyRole(),
        "portal": {"url": "https://portal.example.org"},
    }


def preview_variables(document: Any, portal_url: str) -> dict[str, str]:
    """Dotted `--var` values that make any valid document render: the preview's defaults.

    Every role the document names (`roles.<name>`) gets a documentation-range address, so the
    same dotted list given to `render_profile --var` gives the same bytes.
    """
    names = sorted(referenced_roles(document))
    dotted = {
        "cluster.name": "preview",
        "cluster.id": "0",
        "cluster.secret": "preview-cluster-secret",
        "role.name": "node",
        "instance.index": "0",
        "instance.name": "preview-node-0",
        "instance.token": "preview-instance-token",
        "portal.url": portal_url,
    }
    for i, name in enumerate(names):
        dotted[f"roles.{name}.addresses"] = f"192.0.2.{10 + i}"
    return dotted


def with_preview_defaults(pairs: list[str], document: Any, portal_url: str) -> dict[str, str]:
    """The dotted `key=value` pairs given, completed with `preview_variables`' defaults.

    A variable not given takes its default; giving any `roles.<name>.` key replaces the default
    of that role (its address and addresses go together).
    """
    given = dict(_split_pair(pair) for pair in pairs)
    given_roles = {key.split(".")[1] for key in given if key.startswith("roles.") and key.count(".") >= 2}
    defaults = {
        key: value
        for key, value in preview_variables(document, portal_url).items()
        if key not in given and not (key.startswith("roles.") and key.split(".")[1] in given_roles)
    }
    return {**defaults, **given}


_ROLE_REFERENCE = re.compile(r"roles(?:\.|\[['\"])([A-Za-z_][A-Za-z0-9_]*)")


def templated_roles(document: Any) -> set[str]:
    """The roles whose addresses the document's templates use (`roles.<name>`, `roles['<name>']`)."""
    return {
        name
        for _path, value in walk_strings(document)
        if is_template(value)
        for name in _ROLE_REFERENCE.findall(value)
    }


def referenced_roles(document: Any) -> set[str]:
    """The roles a document names: in its templates, and those its services use (e.g. a hostfile's)."""
    # Imported here: the service modules import the forms, which import this module.
    from contexts import services

    return templated_roles(document) | services.roles(document)


class VariableError(ValueError):
    pass


def parse_variables(pairs: list[str] | Mapping[str, str]) -> dict[str, Any]:
    """Turn dotted `key=value` pairs into the nested variables templates see.

    `roles.<name>.addresses` takes a comma-separated list; `roles.<name>.address` and
    `.addresses` fill each other in; `instance.index` and `cluster.id` become integers.
    """
    items = pairs.items() if isinstance(pairs, Mapping) else [_split_pair(p) for p in pairs]
    tree: dict[str, Any] = {}
    for key, value in items:
        parts = key.split(".")
        if not all(parts) or not all(p.replace("_", "a").replace("-", "a").isalnum() for p in parts):
            raise VariableError(f"bad variable name {key!r}: use dotted names like cluster.name")
        node = tree
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise VariableError(f"variable {key!r} conflicts with another --var")
            node = child
        if isinstance(node.get(parts[-1]), dict):
            raise VariableError(f"variable {key!r} conflicts with another --var")
        node[parts[-1]] = value
    for name, role in (tree.get("roles") or {}).items():
        if not isinstance(role, dict):
            raise VariableError(f"roles.{name} needs an attribute, e.g. roles.{name}.address=10.0.0.5")
        if "addresses" in role:
            role["addresses"] = [a.strip() for a in role["addresses"].split(",") if a.strip()]
        elif "address" in role:
            role["addresses"] = [role["address"]]
        role.setdefault("address", role.get("addresses", [""])[0] if role.get("addresses") else "")
    for section, key in (("instance", "index"), ("cluster", "id")):
        value = (tree.get(section) or {}).get(key)
        if isinstance(value, str) and value.isdigit():
            tree[section][key] = int(value)
    return tree


def _split_pair(pair: str) -> tuple[str, str]:
    key, sep, value = pair.partition("=")
    if not sep or not key.strip():
        raise VariableError(f"--var {pair!r} must look like key=value")
    return key.strip(), value
