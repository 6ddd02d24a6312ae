"""The queue reporter a batch service installs on its cluster's head (docs/elastic.md).

A service gives the collector: a POSIX sh script that prints the queue report on `collect` and
drains a worker on `drain NAME` (the report's format is in docs/elastic.md). A systemd service runs
`portal-instance report` with it, which posts the report through the instance API every 30 s and
drains the workers the portal's answer names. With no check-in (a preview, a paired machine) there
is no instance API to post to, and nothing is installed.
"""

from __future__ import annotations

from contexts.render.checkin import HELPER_PATH
from contexts.render.common import Context, File, Plan

COLLECTOR_PATH = "/usr/local/lib/context-portal/queue-report"
UNIT_NAME = "context-portal-queue.service"
UNIT_PATH = f"/etc/systemd/system/{UNIT_NAME}"

_UNIT = f"""[Unit]
Description=Context Portal queue reporter (%s)
After=network-online.target
Wants=network-online.target

[Service]
ExecStart={HELPER_PATH} report {COLLECTOR_PATH}
Restart=always
RestartSec=10

[Install]
WantedBy=multi-user.target
"""


def reporter_plan(ctx: Context, system: str, collector: str) -> Plan:
    """The collector, and the service that reports with it; nothing without check-in."""
    if ctx.checkin is None:
        return Plan()
    return Plan(
        files=[File(COLLECTOR_PATH, collector, mode="0755"), File(UNIT_PATH, _UNIT % system)],
        commands=[["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", UNIT_NAME]],
    )
