"""Forms of the profile pages, and the sectioned editor over the profile document (docs/profiles.md).

The editor never shows a secret: it starts from the *redacted* document (`shown_document`), and
`document_from_forms` turns a blank secret field back into `REDACTED` ("keep the stored value"),
which `add_revision` resolves when it seals the new revision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django import forms

from contexts import forms_sections as sections
from contexts.document import DocumentInvalid, parse_yaml, validate
from contexts.models import Profile
from contexts.profiles import create_profile, set_tags
from contexts.render.limits import known_limits
from contexts.secrets import REDACTED, secrets_set
from contexts.services import SERVICES
from contexts.templating import VariableError, parse_variables


def provider_choices() -> list[tuple[str, str]]:
    """No provider, or one whose user-data limit to apply (`contexts.render.limits`)."""
    return [
        ("", "none (no size limit)"),
        *((name, limit.choice_label) for name, limit in known_limits().items()),
    ]


class ProfileMetaForm(forms.ModelForm):
    tags = forms.CharField(required=False, help_text="Comma-separated, e.g. cms, htcondor")

    class Meta:
        model = Profile
        fields = ["name", "description", "visibility"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"visibility": "Public profiles can be read (secrets hidden) by every user."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["tags"] = ", ".join(tag.name for tag in self.instance.tags.all())

    def save(self):
        profile = super().save()
        set_tags(profile, sections.words(self.cleaned_data["tags"]))
        return profile


class ProfileCreateForm(ProfileMetaForm):
    document = forms.CharField(
        label="Starting document (YAML, optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, **sections.CODE, "placeholder": "schema: 1\ntimezone: UTC"}),
        help_text="Leave empty to start from a blank profile and fill it in with the editor.",
    )

    def clean_document(self):
        source = sections.unix_text(self.cleaned_data["document"])
        if not source.strip():
            return {"schema": 1}
        try:
            document = parse_yaml(source)
        except DocumentInvalid as exc:
            raise forms.ValidationError(exc.messages)
        problems = validate(document)
        if problems:
            raise forms.ValidationError(problems)
        return document

    def create(self, owner) -> Profile:
        data = self.cleaned_data
        return create_profile(
            owner,
            data["name"],
            data["document"],
            description=data["description"],
            visibility=data["visibility"],
            tags=sections.words(data["tags"]),
        )


class ChangeMessageForm(forms.Form):
    message = forms.CharField(
        label="Change message", required=False, max_length=200, help_text="What changed, for the history."
    )


class YamlForm(ChangeMessageForm):
    field_order = ["document", "message"]
    document = forms.CharField(
        label="Document (YAML)",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 24, "wrap": "off", **sections.CODE}),
        help_text=f"{REDACTED} stands for a stored secret and keeps it; type a new value to change "
        "it, or write null to remove it.",
    )

    def clean(self):
        data = super().clean()
        try:
            data["document"] = parse_yaml(sections.unix_text(data.get("document", "")))
        except DocumentInvalid as exc:
            raise forms.ValidationError(exc.messages)
        return data


class PreviewForm(forms.Form):
    vars = forms.CharField(
        label="Variables",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, **sections.CODE}),
        help_text="One dotted key=value per line: the --var values of manage.py render_profile.",
    )
    provider = forms.ChoiceField(
        label="Provider",
        required=False,
        choices=provider_choices,
        help_text="Applies the provider's user-data size limit.",
    )

    def clean_vars(self):
        pairs = sections.lines(self.cleaned_data["vars"])
        try:
            self.variables = parse_variables(pairs)
        except VariableError as exc:
            raise forms.ValidationError(str(exc))
        return pairs


# --- the sectioned editor ---------------------------------------------------------------


class _ItemFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        form.fields["DELETE"].label = "Remove"

    def kept_forms(self):
        return [f for f in self.forms if not f.cleaned_data.get("DELETE") and not f.is_blank()]


def _formset(form_class, max_num):
    return forms.formset_factory(
        form_class, formset=_ItemFormSet, extra=1, can_delete=True, max_num=max_num, validate_max=True
    )


EDITOR_FORMS = {
    "general": sections.GeneralForm,
    "users": _formset(sections.UserForm, 100),
    "root": sections.RootForm,
    "packages": sections.PackagesForm,
    "cvmfs": sections.CvmfsForm,
    "cvmfs_extra": _formset(sections.ExtraRepositoryForm, 50),
    **{name: service.form for name, service in SERVICES.items()},
    "env": sections.EnvForm,
    "files": _formset(sections.FileForm, 100),
    "scripts": _formset(sections.ScriptForm, 50),
    "advanced": sections.AdvancedForm,
}

# (key, title, parts): each part is a form of EDITOR_FORMS with its heading.
SECTIONS = (
    ("general", "General", (("general", ""),)),
    ("users", "Users", (("users", ""),)),
    ("root", "Root account", (("root", ""),)),
    ("packages", "Packages", (("packages", ""),)),
    ("cvmfs", "CernVM-FS", (("cvmfs", ""), ("cvmfs_extra", "Extra repositories"))),
    ("services", "Services", tuple((name, service.label) for name, service in SERVICES.items())),
    ("env", "Environment", (("env", ""),)),
    ("files", "Files", (("files", ""),)),
    ("scripts", "Scripts", (("scripts", ""),)),
    ("advanced", "Advanced", (("advanced", ""),)),
)

# The document keys the editor owns; any other key of the current document is kept as it is.
MANAGED_KEYS = (
    "hostname",
    "timezone",
    "locale",
    "users",
    "root",
    "packages",
    "package_upgrade",
    "cvmfs",
    "services",
    "env",
    "files",
    "scripts",
    "cloud_config",
)
_SECTION_OF_KEY = {
    "hostname": "general",
    "timezone": "general",
    "locale": "general",
    "package_upgrade": "packages",
    "cloud_config": "advanced",
}


def initial_from_document(document: dict) -> dict:
    """Initial data of every editor form, from a redacted document."""
    cvmfs = document.get("cvmfs") or {}
    services = document.get("services") or {}
    return {
        "general": sections.GeneralForm.initial(document),
        "users": [sections.UserForm.initial(u) for u in document.get("users") or []],
        "root": sections.RootForm.initial(document),
        "packages": sections.PackagesForm.initial(document),
        "cvmfs": sections.CvmfsForm.initial(document),
        "cvmfs_extra": [
            sections.ExtraRepositoryForm.initial(r) for r in cvmfs.get("extra_repositories") or []
        ],
        **{name: service.form.initial(services.get(name)) for name, service in SERVICES.items()},
        "env": sections.EnvForm.initial(document),
        "files": [sections.FileForm.initial(f) for f in document.get("files") or []],
        "scripts": [sections.ScriptForm.initial(s) for s in document.get("scripts") or []],
        "advanced": sections.AdvancedForm.initial(document),
    }


def document_from_forms(current: dict, forms: dict) -> dict:
    """The new document: `current` with the sections the editor owns replaced by the forms'.

    `current` is the redacted latest document; keys the editor has no field for stay as they are,
    and empty sections are left out.
    """
    stored = secrets_set(current)

    def items(name):
        return [form.to_document(stored) for form in forms[name].kept_forms()]

    cvmfs = forms["cvmfs"].to_document(stored)
    cvmfs.update(sections.compact({"extra_repositories": items("cvmfs_extra")}))
    services = {k: v for k, v in (current.get("services") or {}).items() if k not in SERVICES}
    for name in SERVICES:
        service = forms[name].to_document(stored)
        if service is not None:
            services[name] = service
    document = {"schema": current.get("schema", 1)}
    document.update(forms["general"].to_document(stored))
    document["users"] = items("users")
    document["root"] = forms["root"].to_document(stored)
    document.update(forms["packages"].to_document(stored))
    document.update(cvmfs=cvmfs, services=services, env=forms["env"].to_document(stored))
    document.update(files=items("files"), scripts=items("scripts"))
    document["cloud_config"] = forms["advanced"].to_document(stored)
    document = {k: v for k, v in document.items() if k == "schema" or v not in ({}, [], None)}
    document.update({k: v for k, v in current.items() if k not in document and k not in MANAGED_KEYS})
    return document


def section_of(message: str) -> str | None:
    """The editor section a validation message is about (its path's first key), if any."""
    head = re.split(r"[.\[:]", message, maxsplit=1)[0].strip()
    key = _SECTION_OF_KEY.get(head, head)
    return key if any(key == s[0] for s in SECTIONS) else None


@dataclass
class Part:
    title: str
    form: forms.Form | forms.BaseFormSet

    @property
    def is_formset(self) -> bool:
        return isinstance(self.form, forms.BaseFormSet)

    @property
    def has_errors(self) -> bool:
        if self.is_formset:
            return bool(self.form.is_bound and self.form.total_error_count())
        return bool(self.form.is_bound and self.form.errors)


@dataclass
class Section:
    key: str
    title: str
    parts: list[Part]
    problems: list[str] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return bool(self.problems) or any(part.has_errors for part in self.parts)


class ProfileEditor:
    """All the editor's forms over one document, bound to `data` on a POST."""

    def __init__(self, document: dict, data=None):
        self.current = document
        initial = initial_from_document(document)
        self.forms = {
            name: form(data, initial=initial[name], prefix=name) for name, form in EDITOR_FORMS.items()
        }
        self.message_form = ChangeMessageForm(data, prefix="change")
        self.problems: list[str] = []

    def is_valid(self) -> bool:
        # Every form is validated, not just up to the first invalid one, so all errors show at once.
        valid = [form.is_valid() for form in (*self.forms.values(), self.message_form)]
        return all(valid)

    def document(self) -> dict:
        return document_from_forms(self.current, self.forms)

    @property
    def message(self) -> str:
        return self.message_form.cleaned_data["message"]

    def sections(self) -> list[Section]:
        return [
            Section(
                key,
                title,
                [Part(heading, self.forms[name]) for name, heading in parts],
                [p for p in self.problems if section_of(p) == key],
            )
            for key, title, parts in SECTIONS
        ]
