"""The editor's service sections (docs/profiles.md `services`): each is used when its main field is filled.

`to_document` returns None for a service that is not used, so the document leaves it out.
"""

from __future__ import annotations

from django import forms

from contexts.forms_sections import SectionForm, compact, joined, optional, secret, words


class CondorForm(SectionForm):
    secrets = ("pool_password",)
    role = forms.ChoiceField(
        label="Role",
        required=False,
        choices=[("", "— not used —"), ("master", "master"), ("worker", "worker"), ("submit", "submit")],
    )
    master = optional("Central manager", "Usually {{ roles.master.address }}")
    pool_password = secret("Pool password")
    clear_pool_password = forms.BooleanField(label="Clear the stored pool password", required=False)
    uid_domain = optional("UID domain")
    port_low = forms.IntegerField(label="Lowest port", required=False, min_value=1024, max_value=65535)
    port_high = forms.IntegerField(label="Highest port", required=False, min_value=1024, max_value=65535)

    @staticmethod
    def initial(condor):
        condor = condor or {}
        ports = condor.get("port_range") or {}
        return {
            **{k: condor.get(k, "") for k in ("role", "master", "uid_domain")},
            "port_low": ports.get("low"),
            "port_high": ports.get("high"),
            "pool_password_set": bool(condor.get("pool_password")),
        }

    def clean(self):
        data = super().clean()
        self.require("role", "HTCondor")
        if (data.get("port_low") is None) != (data.get("port_high") is None):
            self.add_error("port_high", "Give both ends of the port range, or neither.")
        return data

    def to_document(self, stored):
        data = self.cleaned_data
        if not data.get("role"):
            return None
        ports = {"low": data["port_low"], "high": data["port_high"]} if data["port_low"] else {}
        return compact(
            {
                "role": data["role"],
                "master": data["master"],
                "pool_password": self.secret_value("pool_password", stored, "services.condor.pool_password"),
                "uid_domain": data["uid_domain"],
                "port_range": ports,
            }
        )


class _SimpleServiceForm(SectionForm):
    """A service whose fields map one to one onto its keys, enabled by its `key_field`."""

    key_field = ""
    label = ""

    @classmethod
    def initial(cls, service):
        return {name: (service or {}).get(name, "") for name in cls.base_fields}

    def clean(self):
        data = super().clean()
        self.require(self.key_field, self.label)
        return data

    def to_document(self, stored):
        return compact(self.cleaned_data) if self.cleaned_data.get(self.key_field) else None


class PuppetForm(_SimpleServiceForm):
    key_field, label = "server", "Puppet"
    server = optional("Puppet server")
    environment = optional("Environment", "e.g. production")
    certname = optional("Certificate name")


class AnsiblePullForm(_SimpleServiceForm):
    key_field, label = "url", "ansible-pull"
    url = optional("Git repository URL")
    playbook = optional("Playbook", "e.g. local.yml")
    checkout = optional("Branch, tag or commit")


class ProofForm(_SimpleServiceForm):
    key_field, label = "role", "PROOF"
    role = forms.ChoiceField(
        label="Role",
        required=False,
        choices=[("", "— not used —"), ("master", "master"), ("worker", "worker")],
    )
    master = optional("Master host", "Usually {{ roles.master.address }}")


class GangliaForm(_SimpleServiceForm):
    key_field, label = "collector", "Ganglia"
    collector = optional("Collector host")
    cluster_name = optional("Cluster name")


class MpiForm(SectionForm):
    enabled = forms.BooleanField(label="Set up MPI (a hostfile of the cluster's nodes)", required=False)
    roles = optional("Roles in the hostfile", "Comma-separated; all roles when empty")
    slots = forms.IntegerField(label="Slots per node", required=False, min_value=1, max_value=4096)
    hostfile = optional("Hostfile path", "e.g. /etc/mpi/hostfile")

    @staticmethod
    def initial(mpi):
        if mpi is None:
            return {}
        return {
            "enabled": True,
            "roles": joined(mpi.get("roles"), ", "),
            **{k: mpi.get(k) for k in ("slots", "hostfile")},
        }

    def to_document(self, stored):
        if self.is_blank():
            return None
        data = self.cleaned_data
        return compact({"roles": words(data["roles"]), "slots": data["slots"], "hostfile": data["hostfile"]})


SERVICE_FORMS = {
    "condor": CondorForm,
    "puppet": PuppetForm,
    "ansible_pull": AnsiblePullForm,
    "mpi": MpiForm,
    "proof": ProofForm,
    "ganglia": GangliaForm,
}
