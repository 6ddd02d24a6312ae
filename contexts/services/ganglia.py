"""Ganglia: gmond sends its metrics to the collector."""

from __future__ import annotations

from contexts.forms_sections import optional
from contexts.render.common import Context, File, Plan
from contexts.services.base import Service, SimpleServiceForm

CONFIG = "/etc/ganglia/conf.d/context-portal.conf"
DEFAULT_PORT = "8649"


def plan(ctx: Context, ganglia: dict) -> Plan:
    """A gmond.conf include that sends metrics to the collector (gmond includes conf.d/*.conf)."""
    lines = ["/* Written by Context Portal. */"]
    if ganglia.get("cluster_name"):
        lines += ["cluster {", f"  name = {_gmond_string(ganglia['cluster_name'])}", "}"]
    host, _, port = ganglia["collector"].rpartition(":")
    if not (host and port.isdigit()):
        host, port = ganglia["collector"], DEFAULT_PORT
    lines += ["udp_send_channel {", f"  host = {_gmond_string(host)}", f"  port = {port}", "  ttl = 1", "}"]
    return Plan(files=[File(CONFIG, "\n".join(lines) + "\n")], commands=[["systemctl", "restart", "gmond"]])


def _gmond_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class GangliaForm(SimpleServiceForm):
    key_field, label = "collector", "Ganglia"
    collector = optional("Collector host")
    cluster_name = optional("Cluster name")


SERVICE = Service(
    "ganglia",
    GangliaForm,
    plan,
    amiconfig=lambda ganglia: [("name", ganglia.get("cluster_name"))],
)
