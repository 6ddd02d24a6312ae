"""What a cloud's page tells the people who run its gateway agent (docs/gateway-agents.md): the command, and an
agent.toml skeleton for portal/agent.py with this cloud filled in.

The skeleton holds the cloud's id, driver, endpoint and options, the portal's broker and queue
settings, the cloud's message key (the agent opens the user-data of create messages with it: the
broker only ever sees it sealed), and the names of the driver's credentials with placeholders:
never a stored credential (an agent-served cloud stores none anyway) nor the broker's password.
The page that shows it is the cloud's, which only those who may edit the cloud see in full.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

from clusters.models import Cloud
from clusters.providers import provider_class

ENDPOINT_FIELDS = ("host", "port", "path", "secure", "region", "zone")
BROKER_PASSWORD = "BROKER-PASSWORD"  # noqa: S105 - a placeholder shown instead of the real one


def agent_command(cloud: Cloud) -> str:
    return f"PORTAL_AGENT_CONFIG=agent.toml celery -A portal.agent worker -Q {cloud.queue}"


def agent_toml(cloud: Cloud) -> str:
    provider = provider_class(cloud.driver)
    fields = ENDPOINT_FIELDS if provider.endpoint_fields is None else provider.endpoint_fields
    lines = [
        f"# The gateway agent of the cloud {_toml(cloud.name)} (queue {cloud.queue}).",
        f"broker_url = {_toml(_broker_url())}",
        f"results_queue = {_toml(settings.CELERY_PORTAL_RESULTS_QUEUE)}  # where the portal's workers record outcomes",
    ]
    # The portal's Redis key prefix, if it uses one: without it the agent would see no message.
    broker_options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    transport = {k: v for k, v in broker_options.items() if k == "global_keyprefix"}
    if transport:
        lines += ["", "[broker_transport_options]"]
        lines += [f"{name} = {_toml(value)}" for name, value in transport.items()]
    lines += [
        "",
        f"[clouds.{cloud.pk}]",
        f"driver = {_toml(cloud.driver)}",
        f"message_key = {_toml(cloud.message_key_value())}  # opens its create messages: keep it secret",
    ]
    for name in ENDPOINT_FIELDS:
        value = getattr(cloud, name)
        if name in fields and value not in ("", None):
            lines.append(f"{name} = {_toml(value)}")
    lines += ["", f"[clouds.{cloud.pk}.credentials]"]
    lines += [f"{p.name} = {_toml(f'<{p.label}>')}" for p in provider.parameters if p.sensitive]
    options = {name: value for name, value in (cloud.options or {}).items() if value not in ("", None)}
    if options:
        lines += ["", f"[clouds.{cloud.pk}.options]"]
        lines += [f"{name} = {_toml(value)}" for name, value in sorted(options.items())]
    return "\n".join(lines) + "\n"


def _broker_url() -> str:
    """The portal's broker, with a placeholder for its password (which the page never shows)."""
    url = urlsplit(settings.CELERY_BROKER_URL)
    if url.password is None:
        return settings.CELERY_BROKER_URL
    user = url.username or ""
    host = url.hostname or ""
    netloc = f"{user}:{BROKER_PASSWORD}@{host}" + (f":{url.port}" if url.port else "")
    return urlunsplit(url._replace(netloc=netloc))


def _toml(value) -> str:
    """A TOML value. JSON's string escapes are valid in TOML basic strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml(v)}" for k, v in value.items()) + "}"
    return json.dumps(str(value))
