"""Forms of the cluster definition pages: the definition itself and one form per role.

A role form offers only what its owner may use — own and public profiles, active offerings,
images on own and site-wide clouds — so a forged choice is refused like any unknown value. The
checks across roles (dependencies, templates naming roles) run on the whole formset through
`clusters.definitions.definition_problems`, the same rules the API and the launcher use.
"""

from __future__ import annotations

import re

from django import forms

from clusters.definitions import (
    ELASTIC_FIELDS,
    ROLE_FIELDS,
    definition_problems,
    save_roles,
    usable_images,
    usable_offerings,
    usable_profiles,
)
from clusters.models import ClusterDefinition, Role


class DefinitionForm(forms.ModelForm):
    class Meta:
        model = ClusterDefinition
        fields = ["name", "description", "visibility"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"visibility": "Public definitions can be read by every user; only you change them."}

    def clean_name(self):
        name = self.cleaned_data["name"]
        mine = ClusterDefinition.objects.filter(owner=self.instance.owner, name=name)
        if mine.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(f"You already have a definition named {name!r}.")
        return name


class RoleNamesField(forms.CharField):
    """A list of role names typed as "master, storage"."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        names = re.split(r"[\s,]+", super().to_python(value))
        return list(dict.fromkeys(n for n in names if n))

    def has_changed(self, initial, data):
        return list(initial or []) != self.to_python(data)


class ProfileChoiceField(forms.ModelChoiceField):
    def __init__(self, user, **kwargs):
        self.user = user
        super().__init__(**kwargs)

    def label_from_instance(self, profile):
        return (
            profile.name if profile.owner_id == self.user.pk else f"{profile.name} ({profile.owner.username})"
        )


class ImageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, image):
        return f"{image.name} — {image.cloud.name}"


class PolicyNumberField(forms.IntegerField):
    """A number of an elastic role's policy. Left empty, as a fixed role may leave it, it takes its
    usual value (the model's default, the field's `initial`) and counts as unchanged, so a blank
    role form stays blank."""

    def __init__(self, **kwargs):
        super().__init__(**{**kwargs, "required": False})

    def to_python(self, value):
        number = super().to_python(value)
        return self.initial if number is None else number

    def has_changed(self, initial, data):
        return data not in self.empty_values and super().has_changed(initial, data)


class RoleForm(forms.ModelForm):
    pinned_number = forms.IntegerField(
        label="Pinned revision",
        min_value=1,
        required=False,
        help_text="A revision number of the profile; empty for its latest revision at launch.",
    )
    depends_on = RoleNamesField(
        label="Depends on",
        required=False,
        help_text="Other roles whose addresses this one needs, e.g. master.",
    )

    class Meta:
        model = Role
        fields = [f for f in ROLE_FIELDS if f != "pinned_revision"]  # pinned by number (pinned_number)
        labels = {
            "min_count": "Min",
            "max_count": "Max",
            "size": "Provider size",
            "jobs_per_worker": "Jobs per worker",
            "idle_seconds": "Idle time before drain (seconds)",
            "cooldown_seconds": "Cool-down (seconds)",
            "drain_deadline_seconds": "Drain deadline (seconds)",
            "spot": "Spot capacity",
        }
        help_texts = {
            "name": "e.g. master, worker",
            "size": "Instead of an offering, e.g. t2.micro.",
            "min_count": "",
            "max_count": "Empty: no limit. An elastic role needs one.",
            "elastic": "Its size follows the head's batch queue between Min and Max; Count is not used.",
            "jobs_per_worker": "Waiting jobs that make one more worker.",
            "idle_seconds": "A worker idle this long is drained (600 = 10 min).",
            "cooldown_seconds": "The least time between two changes of the role's size.",
            "drain_deadline_seconds": "A worker still draining after this long is terminated anyway.",
            "spot": "Cheaper instances the cloud may take back, where its driver offers them.",
        }
        field_classes = dict.fromkeys(ELASTIC_FIELDS, PolicyNumberField)
        widgets = {"elastic": forms.CheckboxInput(attrs={"data-elastic-switch": ""})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["profile"] = ProfileChoiceField(
            user,
            queryset=usable_profiles(user).select_related("owner", "latest").order_by("name", "pk"),
        )
        self.fields["offering"].queryset = usable_offerings(self.instance.offering)
        self.fields["offering"].help_text = "A size by name, mapped to each cloud's own size."
        self.fields["image"] = ImageChoiceField(
            queryset=usable_images(user).select_related("cloud"),
            help_text="On another cloud, the image of the same name there is used.",
        )
        if self.instance.pinned_revision_id:
            self.initial["pinned_number"] = self.instance.pinned_revision.number
        self.order_fields(["name", "profile", "pinned_number"])

    def clean(self):
        data = super().clean()
        profile, number = data.get("profile"), data.get("pinned_number")
        data["pinned_revision"] = None
        if profile and number:
            data["pinned_revision"] = profile.revisions.filter(number=number).first()
            if data["pinned_revision"] is None:
                self.add_error("pinned_number", f"{profile.name} has no revision {number}.")
        self.instance.pinned_revision = data["pinned_revision"]
        return data


class BaseRoleFormSet(forms.BaseInlineFormSet):
    def kept_forms(self) -> list[RoleForm]:
        """The roles to save, in page order: stored or filled in, and not marked for deletion."""
        return [
            form
            for form in self.forms
            if not self._should_delete_form(form) and (form.instance.pk or form.has_changed())
        ]

    def clean(self):
        super().clean()
        if any(self.errors):
            return  # the roles' own errors first: the cross-role checks would only guess
        roles = [{name: form.cleaned_data.get(name) for name in ROLE_FIELDS} for form in self.kept_forms()]
        found = definition_problems(self.instance, roles)
        if found:
            raise forms.ValidationError(found)

    def save(self, commit=True):
        kept = self.kept_forms()
        roles = [{name: form.cleaned_data.get(name) for name in ROLE_FIELDS} for form in kept]
        return save_roles(
            self.instance, roles, [form.instance if form.instance.pk else None for form in kept]
        )


def role_formset(data=None, *, definition: ClusterDefinition, user):
    """The roles of `definition` (a new one starts with one blank role)."""
    formset_class = forms.inlineformset_factory(
        ClusterDefinition,
        Role,
        form=RoleForm,
        formset=BaseRoleFormSet,
        extra=0 if definition.pk else 1,
        can_delete=True,
    )
    return formset_class(data, instance=definition, prefix="roles", form_kwargs={"user": user})
