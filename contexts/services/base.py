"""What a service module declares: one `Service` (docs/profiles.md, "Adding a service")."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from contexts.forms_sections import SectionForm, compact
from contexts.render.common import Context, Plan


@dataclass(frozen=True)
class Secret:
    """A secret field of a service: stored encrypted, never shown back (`contexts.secrets`)."""

    key: str
    words: str  # how messages name it, e.g. "the HTCondor pool password"
    # For a secret every node of a cluster shares: a launch that may not use the owner's value gets
    # one made from the cluster's secret and `derived_from`, which its notice calls `stand_in`.
    # Left empty, such a launch goes without the secret.
    derived_from: str = ""
    stand_in: str = ""


@dataclass(frozen=True)
class Service:
    """One key under `services` in the document, and all the portal does with it."""

    name: str  # the key under `services`
    form: type[SectionForm]  # the editor's part for it; the form's `label` is its heading
    # Packages, files and commands: what a format renders unless it does the service natively.
    plan: Callable[[Context, dict], Plan]
    # Format -> that format's own rendering, used there instead of the plan
    # ("cloud-init": cloud-config keys for cloud-init's own modules).
    native: Mapping[str, Callable[[dict], Any]] = field(default_factory=dict)
    # The key=value pairs of amiconfig's plugin named like the service (None: no plugin section for
    # these settings); the sh part still runs the plan.
    amiconfig: Callable[[dict], list[tuple[str, Any]] | None] | None = None
    secrets: tuple[Secret, ...] = ()
    # Problems the schema cannot say, each message starting with its path.
    problems: Callable[[dict], list[str]] | None = None
    # The roles whose addresses the service uses (a launch must know them).
    roles: Callable[[dict], set[str]] | None = None

    @property
    def label(self) -> str:
        return self.form.label


class ServiceForm(SectionForm):
    """The editor's part for a service: used when its `key_field` is filled, else `to_document`
    gives None and the document leaves the service out."""

    label = ""
    key_field = ""

    def clean(self):
        data = super().clean()
        if self.key_field:
            self.require(self.key_field, self.label)
        return data

    def to_document(self, stored):
        return self.settings(stored) if self.cleaned_data.get(self.key_field) else None

    def settings(self, stored) -> dict:
        """The service's settings in the document, from the cleaned data."""
        return compact(self.cleaned_data)


class SimpleServiceForm(ServiceForm):
    """A service whose fields map one to one onto its keys."""

    @classmethod
    def initial(cls, service):
        return {name: (service or {}).get(name, "") for name in cls.base_fields}
