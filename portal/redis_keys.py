"""Every Redis key the portal and its gateway agents write, in one place: under the broker's key
prefix (`global_keyprefix`: each test run has its own, so two runs on one machine never share a key)
and then `context-portal:`.

It reads the prefix from the Celery app's configuration, which portal processes take from Django's
settings and a gateway agent from its agent.toml, so the same function serves both.
"""

from __future__ import annotations

from celery import current_app


def redis_key(*parts) -> str:
    prefix = (current_app.conf.broker_transport_options or {}).get("global_keyprefix", "")
    return prefix + ":".join(("context-portal", *(str(part) for part in parts)))
