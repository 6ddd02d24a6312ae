"""The services a profile can set up (`services` in the document): one module each, one registry.

Each module declares its `SERVICE` (see `base.Service`): the editor's form and heading, the plan
every format renders, what a format does natively instead, its secrets and checks. The schema's
`services` keeps each one's fragment. To add a service: write its module, add its name to
`_MODULES`, add its fragment to the schema, and test it (docs/profiles.md, "Adding a service").
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module
from typing import Any

from contexts.render.common import Context, Plan, merge_plans
from contexts.services.base import Secret, Service

# The service modules, in the editor's (and the output's) order.
_MODULES = ("condor", "slurm", "puppet", "ansible_pull", "mpi", "proof", "ganglia", "chef")

SERVICES: dict[str, Service] = {
    service.name: service
    for service in (import_module(f"{__name__}.{module}").SERVICE for module in _MODULES)
}


def used(document: Any) -> list[tuple[Service, dict]]:
    """The services a document sets up, with their settings, in the registry's order."""
    configured = document.get("services") if isinstance(document, dict) else None
    if not isinstance(configured, dict):
        return []
    return [(service, configured[name]) for name, service in SERVICES.items() if name in configured]


def plan(ctx: Context, fmt: str) -> Plan:
    """The plans of the document's services, but those `fmt` renders natively."""
    return merge_plans(
        *(service.plan(ctx, config) for service, config in used(ctx.document) if fmt not in service.native)
    )


def native(ctx: Context, fmt: str) -> list:
    """`fmt`'s own renderings of the document's services it renders natively."""
    return [service.native[fmt](config) for service, config in used(ctx.document) if fmt in service.native]


def amiconfig_sections(ctx: Context) -> list[tuple[str, list]]:
    """(plugin, key=value pairs) of the amiconfig plugins of the document's services."""
    sections = [
        (service.name, service.amiconfig(config))
        for service, config in used(ctx.document)
        if service.amiconfig
    ]
    # A service's plugin may not fit its settings (None): the sh part's plan then does it all.
    return [(name, pairs) for name, pairs in sections if pairs is not None]


def problems(document: dict) -> list[str]:
    return [
        problem
        for service, config in used(document)
        if service.problems
        for problem in service.problems(config)
    ]


def roles(document: Any) -> set[str]:
    """The roles whose addresses the document's services use."""
    return {role for service, config in used(document) if service.roles for role in service.roles(config)}


def secret_slots(document: Any) -> Iterator[tuple[dict, str, str]]:
    """(container, key, stable name) of every secret field the document's services hold."""
    for service, config in used(document):
        for secret in service.secrets:
            if isinstance(config, dict) and secret.key in config:
                yield config, secret.key, f"services.{service.name}.{secret.key}"


def secret(name: str) -> Secret | None:
    """The service secret of a stable name (`services.<service>.<key>`), if it is one."""
    parts = name.split(".")
    service = SERVICES.get(parts[1]) if len(parts) == 3 and parts[0] == "services" else None
    return next((s for s in service.secrets if s.key == parts[2]), None) if service else None


__all__ = [
    "SERVICES",
    "Secret",
    "Service",
    "amiconfig_sections",
    "native",
    "plan",
    "problems",
    "roles",
    "secret",
    "secret_slots",
    "used",
]
