"""Puppet: the agent pointed at its server. cloud-init does it with its own puppet module."""

from __future__ import annotations

from contexts.forms_sections import optional
from contexts.render.common import Context, Plan
from contexts.services.base import Service, SimpleServiceForm

_AGENT_KEYS = ("server", "environment", "certname")


def plan(ctx: Context, puppet: dict) -> Plan:
    """For images without cloud-init's puppet module: install, point the agent, start it."""
    commands = [
        ["puppet", "config", "set", "--section", "agent", key, puppet[key]]
        for key in _AGENT_KEYS
        if puppet.get(key)
    ]
    commands.append(["systemctl", "enable", "--now", "puppet"])
    return Plan(packages=["puppet"], commands=commands)


def cloud_config(puppet: dict) -> dict:
    agent = {key: puppet[key] for key in _AGENT_KEYS if puppet.get(key)}
    return {"puppet": {"install": True, "conf": {"agent": agent}, "start_service": True}}


class PuppetForm(SimpleServiceForm):
    key_field, label = "server", "Puppet"
    server = optional("Puppet server")
    environment = optional("Environment", "e.g. production")
    certname = optional("Certificate name")


SERVICE = Service(
    "puppet",
    PuppetForm,
    plan,
    native={"cloud-init": cloud_config},
    amiconfig=lambda puppet: [("puppet_server", puppet["server"])],
)
