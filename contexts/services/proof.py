"""PROOF: a sourceable facts file (role, master) for the site's PROOF on Demand setup."""

from __future__ import annotations

from django import forms

from contexts.forms_sections import optional
from contexts.render.common import Context, File, Plan, quote
from contexts.services.base import Service, SimpleServiceForm

CONFIG = "/etc/proof/context-portal.conf"


def plan(ctx: Context, proof: dict) -> Plan:
    lines = ["# Written by Context Portal.", f"PROOF_ROLE={quote(proof['role'])}"]
    if proof.get("master"):
        lines.append(f"PROOF_MASTER={quote(proof['master'])}")
    return Plan(files=[File(CONFIG, "\n".join(lines) + "\n")])


class ProofForm(SimpleServiceForm):
    key_field, label = "role", "PROOF"
    role = forms.ChoiceField(
        label="Role",
        required=False,
        choices=[("", "— not used —"), ("master", "master"), ("worker", "worker")],
    )
    master = optional("Master host", "Usually {{ roles.master.address }}")


SERVICE = Service("proof", ProofForm, plan)
