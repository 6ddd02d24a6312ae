"""Forms of the cloud pages: one cloud form per driver (its common fields plus the driver's own
parameters), and the small image form.

A sensitive parameter is a password input that is never filled back: blank keeps the stored
value, so editing the endpoint does not mean typing the secret key again. A cloud served by a
gateway agent stores no credentials at all (docs/gateway-agents.md): they live in the agent's agent.toml.
"""

from __future__ import annotations

from django import forms
from django.views.decorators.debug import sensitive_variables

from clusters.models import DEFAULT_QUEUE, CheckState, Cloud, Image
from clusters.providers import provider_class
from clusters.providers.base import Param
from portal.crypto import DecryptionError, decrypt_json

PARAM_PREFIX = "param_"
ENDPOINT_FIELDS = ("host", "port", "path", "secure", "region", "zone")


class CloudForm(forms.ModelForm):
    class Meta:
        model = Cloud
        fields = [
            "name",
            "served_by_agent",
            *Cloud.ENDPOINT_FIELDS,
            "queue",
            "api_concurrency",
            "instance_quota",
        ]
        labels = {"served_by_agent": "Served by a gateway agent"}
        help_texts = {
            "served_by_agent": "An agent in the provider's network serves this cloud's queue with "
            "credentials of its own, from its agent.toml: none are asked or stored here."
        }

    def __init__(self, data=None, *, driver: str, user, instance: Cloud | None = None):
        super().__init__(data, instance=instance)
        self.driver, self.user = driver, user
        self.provider = provider_class(driver)
        self.stored = set(self.instance.credential_names())
        if self.provider.endpoint_fields is not None:  # a driver that names what it reads gets only those
            for name in set(ENDPOINT_FIELDS) - set(self.provider.endpoint_fields):
                del self.fields[name]
        for param in self.provider.parameters:
            self.fields[PARAM_PREFIX + param.name] = self._param_field(param)
        if user.is_staff and not self.instance.pk:
            self.fields["site_wide"] = forms.BooleanField(
                label="Site-wide cloud", required=False, help_text="Usable (read-only) by every user."
            )
        self.order_fields(
            ["name", "served_by_agent", *(PARAM_PREFIX + p.name for p in self.provider.parameters)]
        )

    def _param_field(self, param: Param) -> forms.Field:
        if param.sensitive:
            is_set = param.name in self.stored
            return forms.CharField(
                label=param.label,
                required=False,  # unless the cloud's own workers need it: see clean()
                strip=False,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
                help_text=" ".join(
                    t
                    for t in (param.help, "Set: leave blank to keep the stored value." if is_set else "")
                    if t
                ),
            )
        return forms.CharField(
            label=param.label,
            required=param.required,
            initial=self.instance.options.get(param.name, param.default)
            if self.instance.pk
            else param.default,
            help_text=param.help,
        )

    def endpoint_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ENDPOINT_FIELDS if name in self.fields]

    def credential_fields(self) -> list[forms.BoundField]:
        return [self[PARAM_PREFIX + p.name] for p in self.provider.parameters if p.sensitive]

    def option_fields(self) -> list[forms.BoundField]:
        return [self[PARAM_PREFIX + p.name] for p in self.provider.parameters if not p.sensitive]

    def clean(self):
        data = super().clean()
        owner = None if data.get("site_wide") else (self.instance.owner if self.instance.pk else self.user)
        name = data.get("name")
        if name and Cloud.objects.filter(owner=owner, name=name).exclude(pk=self.instance.pk).exists():
            whose = "A site-wide cloud" if owner is None else "You already have a cloud"
            self.add_error("name", f"{whose} named {name!r} exists; choose another name.")
        if data.get("served_by_agent"):
            if data.get("queue") == DEFAULT_QUEUE:
                self.add_error(
                    "queue",
                    "A gateway agent serves a queue of its own: name one for this cloud, "
                    f"e.g. agent-{self.driver}. The {DEFAULT_QUEUE} queue belongs to the portal's "
                    "workers, which hold no credentials for a cloud an agent serves.",
                )
        else:  # the portal's workers call the cloud: they need every required credential
            needed = [
                p
                for p in self.provider.parameters
                if p.sensitive and p.required and p.name not in self.stored
            ]
            for param in needed:
                field = PARAM_PREFIX + param.name
                if not data.get(field):
                    self.add_error(field, "This field is required.")
        return data

    @sensitive_variables("credentials", "data")
    def save(self, commit=True) -> Cloud:
        cloud = super().save(commit=False)
        data = self.cleaned_data
        cloud.driver = self.driver
        if not cloud.pk:
            cloud.owner = None if data.get("site_wide") else self.user
        names = {p.name for p in self.provider.parameters if p.sensitive}
        credentials = {k: v for k, v in _stored_credentials(cloud).items() if k in names} if cloud.pk else {}
        options = {}
        for param in self.provider.parameters:
            value = data.get(PARAM_PREFIX + param.name, "")
            if param.sensitive:
                if value:
                    credentials[param.name] = value
            elif value != "":
                options[param.name] = value
        cloud.options = options
        cloud.set_credentials({} if cloud.served_by_agent else credentials)
        if self.has_changed():
            # The last check said something about the old settings.
            cloud.check_state, cloud.check_message, cloud.checked_at = CheckState.NEVER, "", None
        if commit:
            cloud.save()
        return cloud


@sensitive_variables()
def _stored_credentials(cloud: Cloud) -> dict:
    try:
        return decrypt_json(cloud.credentials)
    except DecryptionError:
        return {}  # unreadable (the key was rotated away): the user must type them again


class ImageForm(forms.ModelForm):
    class Meta:
        model = Image
        fields = ["name", "provider_id", "format"]

    def __init__(self, data=None, *, cloud: Cloud):
        super().__init__(data, instance=Image(cloud=cloud))

    def clean_name(self):
        name = self.cleaned_data["name"]
        if self.instance.cloud.images.filter(name=name).exists():
            raise forms.ValidationError(f"This cloud already has an image named {name!r}.")
        return name
