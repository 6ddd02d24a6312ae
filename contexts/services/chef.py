"""Chef: a solo run of cookbooks fetched from an archive URL, with the node's run list.

The run list and attributes go to /etc/chef/node.json; the client (`chef-solo`, or Cinc's
`cinc-solo`) then runs `-j /etc/chef/node.json --recipe-url URL`, adding `--chef-license accept`
when asked to. The client must be in the image (no distribution packages it). Every format runs it
as a command: cloud-init's own chef module runs chef-client against a server, and amiconfig has no
Chef plugin.
"""

from __future__ import annotations

import json

from django import forms

from contexts.forms_sections import compact, joined, line_list, optional, text, words
from contexts.render.common import Context, File, Plan
from contexts.services.base import Service, ServiceForm

NODE_JSON = "/etc/chef/node.json"
DEFAULT_CLIENT = "chef-solo"


def plan(ctx: Context, chef: dict) -> Plan:
    client = chef.get("client") or DEFAULT_CLIENT
    attributes = {k: v for k, v in (chef.get("attributes") or {}).items() if k != "run_list"}
    node = {"run_list": chef["run_list"], **attributes}
    argv = [client, "-j", NODE_JSON, "--recipe-url", chef["recipe_url"]]
    if chef.get("accept_license") and client == DEFAULT_CLIENT:
        argv += ["--chef-license", "accept"]
    return Plan(files=[File(NODE_JSON, json.dumps(node, indent=2) + "\n", mode="0600")], commands=[argv])


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON value")


class ChefForm(ServiceForm):
    key_field, label = "recipe_url", "Chef"
    recipe_url = optional("Cookbook archive URL", "A .tar.gz holding a cookbooks/ directory (https or http)")
    run_list = line_list("Run list", "One per line, e.g. recipe[web] or role[base]")
    client = forms.ChoiceField(
        label="Client",
        required=False,
        choices=[("", "chef-solo (Chef)"), ("cinc-solo", "cinc-solo (Cinc)")],
    )
    attributes = text("Attributes (JSON)", 'Optional, a JSON object, e.g. {"web": {"port": 8080}}', rows=4)
    accept_license = forms.BooleanField(
        label="Accept the Chef license (chef-solo 15 and later ask for it)", required=False
    )

    @staticmethod
    def initial(chef):
        chef = chef or {}
        return {
            "recipe_url": chef.get("recipe_url", ""),
            "run_list": joined(chef.get("run_list")),
            "client": "" if chef.get("client") == DEFAULT_CLIENT else chef.get("client", ""),
            "attributes": json.dumps(chef["attributes"], indent=2) if chef.get("attributes") else "",
            "accept_license": bool(chef.get("accept_license")),
        }

    def clean_attributes(self):
        source = self.cleaned_data["attributes"]
        if not source.strip():
            return {}
        try:
            value = json.loads(source, parse_constant=_refuse_constant)
        except ValueError as exc:
            raise forms.ValidationError(f"This is not JSON: {exc}")
        if not isinstance(value, dict):
            raise forms.ValidationError('Write a JSON object, e.g. {"web": {"port": 8080}}')
        if "run_list" in value:
            raise forms.ValidationError("Give the run list in its own field.")
        return value

    def clean(self):
        data = super().clean()
        if data.get("recipe_url") and not words(data.get("run_list") or ""):
            self.add_error("run_list", "Give at least one recipe or role.")
        return data

    def settings(self, stored):
        data = self.cleaned_data
        return compact(
            {
                "client": data["client"],
                "run_list": words(data["run_list"]),
                "recipe_url": data["recipe_url"],
                "attributes": data["attributes"],
                "accept_license": data["accept_license"],
            }
        )


SERVICE = Service("chef", ChefForm, plan)
