"""A gateway agent (docs/gateway-agents.md): `PORTAL_AGENT_CONFIG=agent.toml celery -A portal.agent worker -Q QUEUE`.

It runs inside a provider's network and only connects out to the broker. It has no database and
no Django settings: the broker, and the clouds it serves with their credentials, come from its
own agent.toml — the portal never sees those credentials. It runs the same database-free cloud
tasks as a portal worker (clusters.cloudside, clusters.cloudside_check) and sends every outcome
back to the portal's queue. A cloud's page in the portal shows the command and an agent.toml
skeleton for it (clusters.agents).

agent.toml:

    broker_url = "redis://broker.example.org:6379/0"
    results_queue = "records"          # where the portal's workers listen

    [broker_transport_options]         # optional: as the portal's, e.g. its Redis key prefix
    global_keyprefix = "portal:"

    [clouds.7]                         # the cloud's id in the portal (its page shows it)
    driver = "openstack"
    region = "RegionOne"
    message_key = "..."                # opens the user-data of the cloud's create messages
    [clouds.7.credentials]
    username = "svc-portal"
    password = "..."
    [clouds.7.options]
    auth_url = "https://keystone.example.org:5000"
    tenant = "physics"
"""

import os
import tomllib

from celery import Celery

from clusters import cloudside
from clusters.providers import CloudConfig, CloudError

CONFIG_FIELDS = ("host", "port", "path", "secure", "region", "zone")
TASK_MODULES = ["clusters.cloudside", "clusters.cloudside_check"]


def load_config(path: str) -> dict:
    with open(path, "rb") as f:
        return tomllib.load(f)


def make_resolver(clouds: dict):
    def resolve(cloud_ref: dict) -> CloudConfig:
        entry = clouds.get(str(cloud_ref["id"]))
        if entry is None:
            raise CloudError(f"this agent has no configuration for cloud {cloud_ref['id']}", permanent=True)
        return CloudConfig(
            driver=entry["driver"],
            credentials=dict(entry.get("credentials", {})),
            options=dict(entry.get("options", {})),
            message_key=str(entry.get("message_key", "")),
            **{k: entry[k] for k in CONFIG_FIELDS if k in entry},
        )

    return resolve


config = load_config(os.environ.get("PORTAL_AGENT_CONFIG", "agent.toml"))
# The portal package's Celery app (portal/celery.py, imported with this package) names the portal's
# Django settings. The agent has none, so that nothing in it can set Django up and reach for a
# database; nor does it take Celery's Django fixup, which would (and would replace the resolver).
os.environ.pop("DJANGO_SETTINGS_MODULE", None)
app = Celery("portal-agent", broker=config["broker_url"], include=TASK_MODULES, fixups=[])
app.conf.update(
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    broker_transport_options=dict(config.get("broker_transport_options", {})),
    portal_results_queue=config.get("results_queue", "records"),
    # The agent sends results as messages; it stores none.
    task_ignore_result=True,
)
app.set_default()
cloudside.resolver = make_resolver(config.get("clouds", {}))
