"""ansible-pull: run a playbook from a git repository. cloud-init does it with its ansible module."""

from __future__ import annotations

from contexts.forms_sections import optional
from contexts.render.common import Context, Plan
from contexts.services.base import Service, SimpleServiceForm

DEFAULT_PLAYBOOK = "local.yml"


def plan(ctx: Context, ansible: dict) -> Plan:
    argv = ["ansible-pull", "--url", ansible["url"]]
    if ansible.get("checkout"):
        argv += ["--checkout", ansible["checkout"]]
    argv.append(ansible.get("playbook") or DEFAULT_PLAYBOOK)
    return Plan(packages=["ansible"], commands=[argv])


def cloud_config(ansible: dict) -> dict:
    pull = {"url": ansible["url"], "playbook_name": ansible.get("playbook") or DEFAULT_PLAYBOOK}
    if ansible.get("checkout"):
        pull["checkout"] = ansible["checkout"]
    return {"ansible": {"install_method": "distro", "package_name": "ansible", "pull": pull}}


class AnsiblePullForm(SimpleServiceForm):
    key_field, label = "url", "ansible-pull"
    url = optional("Git repository URL")
    playbook = optional("Playbook", "e.g. local.yml")
    checkout = optional("Branch, tag or commit")


SERVICE = Service("ansible_pull", AnsiblePullForm, plan, native={"cloud-init": cloud_config})
