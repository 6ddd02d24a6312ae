""" "Test connection", cloud side (docs/clouds.md, docs/gateway-agents.md): for a cloud whose credentials live with a gateway
agent, the check must run where they are.

Database-free like clusters.cloudside: the message carries the cloud reference, the worker's own
`cloudside.resolver` finds the cloud's configuration, and the outcome goes back as a message to
the portal's `clusters.record_check`. A provider's message is masked here, the only place that
knows the credentials (CloudStack's errors can quote the signed request, API key included).
"""

from __future__ import annotations

import logging

from celery import shared_task

from clusters import cloudside
from clusters.providers import CloudConfig, CloudError, get_provider

log = logging.getLogger(__name__)

MASK = "********"


def masked(message: str, credentials: dict) -> str:
    """`message` with every credential value masked, the longest first."""
    for secret in sorted((str(v) for v in credentials.values() if v), key=len, reverse=True):
        message = message.replace(secret, MASK)
    return message


def check(config: CloudConfig) -> tuple[bool, str]:
    """(True, what the provider lists) or (False, a readable message) — never an exception."""
    try:
        return True, get_provider(config).check()
    except CloudError as exc:
        return False, masked(exc.message, config.credentials)
    except Exception as exc:  # a driver bug must not leave the cloud "checking…" for ever
        log.error("%s driver: check failed with %s", config.driver, exc.__class__.__name__)
        return False, f"Unexpected error in the {config.driver} driver ({exc.__class__.__name__})."


@shared_task(name="clusters.cloud_check")
def cloud_check(cloud_ref: dict) -> None:
    try:
        if cloudside.resolver is None:
            raise CloudError("this worker has no way to look clouds up", permanent=True)
        config = cloudside.resolver(cloud_ref)
    except CloudError as exc:
        ok, message = False, exc.message
    except Exception as exc:  # e.g. stored credentials the portal's key no longer decrypts
        ok, message = False, f"This worker cannot read the cloud's configuration ({exc.__class__.__name__})."
    else:
        ok, message = check(config)
    cloudside._report("clusters.record_check", cloud_ref["id"], ok, message)
