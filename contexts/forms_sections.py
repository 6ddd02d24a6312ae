"""The editor's section forms (docs/profiles.md): one small form per part of the profile document.

Each form knows both directions for its part: `initial(document)` reads the part out of a
redacted document, `to_document(stored)` builds the part from cleaned data. `stored` is the set
of secrets the current revision holds (`contexts.secrets.secrets_set`): a secret left blank
becomes `REDACTED`, which keeps the stored value when the revision is sealed.
"""

from __future__ import annotations

from django import forms
from django.utils.html import format_html

from contexts.document import DocumentInvalid, dump_yaml, parse_yaml
from contexts.secrets import REDACTED

CODE = {"class": "code", "spellcheck": "false"}


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def words(text: str) -> list[str]:
    return text.replace(",", " ").split()


def joined(values, sep="\n") -> str:
    return sep.join(str(v) for v in values or [])


def unix_text(text: str) -> str:
    # Browsers send textareas with CRLF line ends; a script or file must keep Unix ones.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def line_list(label, help_text="One per line.", rows=3, **attrs):
    widget = forms.Textarea(attrs={"rows": rows, **CODE, **attrs})
    return forms.CharField(label=label, required=False, widget=widget, help_text=help_text)


def text(label, help_text="", rows=6, **attrs):
    widget = forms.Textarea(attrs={"rows": rows, **CODE, **attrs})
    return forms.CharField(label=label, required=False, strip=False, widget=widget, help_text=help_text)


def optional(label, help_text="", **kwargs):
    return forms.CharField(label=label, required=False, help_text=help_text, **kwargs)


def secret(label):
    widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
    return forms.CharField(label=label, required=False, strip=False, max_length=1024, widget=widget)


def compact(mapping: dict) -> dict:
    """The mapping without empty values: the document omits what the form leaves blank."""
    return {k: v for k, v in mapping.items() if v not in (None, "", [], {}, False)}


class SectionForm(forms.Form):
    """Base of the section forms. `secrets` names the secret fields (each with a `clear_` box)."""

    secrets: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.secrets:
            if self.initial.get(f"{field}_set"):
                self.fields[field].label = format_html(
                    '{} <span class="badge text-bg-success">set</span>', self.fields[field].label
                )
                self.fields[field].help_text = "A value is stored. Leave blank to keep it."
                self.fields[field].widget.attrs["placeholder"] = "stored — leave blank to keep"
            else:
                del self.fields[f"clear_{field}"]

    def clean(self):
        data = super().clean()
        for field in self.secrets:
            if data.get(field) and data.get(f"clear_{field}"):
                self.add_error(field, "Type a new value or tick “clear”, not both.")
        return data

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", None) or {}
        return not any(v for k, v in data.items() if k != "DELETE")

    def secret_value(self, field: str, stored: set[str], name: str):
        """The document value of a secret field: typed, kept (`REDACTED`) or absent (None)."""
        if self.cleaned_data.get(f"clear_{field}"):
            return None
        if self.cleaned_data.get(field):
            return self.cleaned_data[field]
        return REDACTED if name in stored else None

    def require(self, key_field: str, label: str):
        """A section is enabled by filling in `key_field`; other fields alone are a mistake."""
        data = self.cleaned_data
        if not data.get(key_field) and any(v for k, v in data.items() if k != key_field):
            self.add_error(key_field, f"Fill this in to enable {label}, or clear the other fields.")


class GeneralForm(SectionForm):
    hostname = optional(
        "Host name", "May use templates, e.g. {{ cluster.name }}-{{ role.name }}-{{ instance.index }}"
    )
    timezone = optional("Time zone", "IANA name, e.g. Europe/Zurich")
    locale = optional("Locale", "e.g. en_US.UTF-8")

    @staticmethod
    def initial(doc):
        return {k: doc.get(k, "") for k in ("hostname", "timezone", "locale")}

    def to_document(self, stored):
        return compact(self.cleaned_data)


class UserForm(SectionForm):
    secrets = ("password",)
    name = optional("Login name", max_length=32)
    gecos = optional("Full name")
    groups = optional("Groups", "Comma-separated, e.g. wheel, docker")
    sudo = forms.BooleanField(label="Can use sudo", required=False)
    shell = optional("Shell", "e.g. /bin/bash")
    ssh_authorized_keys = line_list("SSH public keys", rows=2)
    password = secret("Password")
    clear_password = forms.BooleanField(label="Clear the stored password", required=False)

    @staticmethod
    def initial(user):
        return {
            **{k: user.get(k, "") for k in ("name", "gecos", "shell")},
            "groups": joined(user.get("groups"), ", "),
            "sudo": bool(user.get("sudo")),
            "ssh_authorized_keys": joined(user.get("ssh_authorized_keys")),
            "password_set": bool(user.get("password")),
        }

    def clean(self):
        data = super().clean()
        if not data.get("name") and not self.is_blank():
            self.add_error("name", "Every user needs a login name.")
        return data

    def to_document(self, stored):
        data = self.cleaned_data
        name = data["name"]
        return compact(
            {
                "name": name,
                "gecos": data["gecos"],
                "groups": words(data["groups"]),
                "sudo": data["sudo"],
                "shell": data["shell"],
                "ssh_authorized_keys": lines(data["ssh_authorized_keys"]),
                "password": self.secret_value("password", stored, f"users[{name}].password"),
            }
        )


class RootForm(SectionForm):
    secrets = ("password",)
    password = secret("Root password")
    clear_password = forms.BooleanField(label="Clear the stored root password", required=False)
    ssh_authorized_keys = line_list("SSH public keys for root", rows=2)

    @staticmethod
    def initial(doc):
        root = doc.get("root") or {}
        return {
            "ssh_authorized_keys": joined(root.get("ssh_authorized_keys")),
            "password_set": bool(root.get("password")),
        }

    def to_document(self, stored):
        return compact(
            {
                "password": self.secret_value("password", stored, "root.password"),
                "ssh_authorized_keys": lines(self.cleaned_data["ssh_authorized_keys"]),
            }
        )


class PackagesForm(SectionForm):
    packages = line_list("Packages", "One per line (or separated by spaces).", rows=4)
    package_upgrade = forms.BooleanField(label="Upgrade all packages at first boot", required=False)

    @staticmethod
    def initial(doc):
        return {"packages": joined(doc.get("packages")), "package_upgrade": bool(doc.get("package_upgrade"))}

    def to_document(self, stored):
        return compact(
            {
                "packages": words(self.cleaned_data["packages"]),
                "package_upgrade": self.cleaned_data["package_upgrade"],
            }
        )


class CvmfsForm(SectionForm):
    repositories = line_list("Repositories", "One per line, e.g. cms.cern.ch", rows=3)
    http_proxy = optional("HTTP proxy", "Squid URL(s), e.g. http://squid.example.org:3128, or DIRECT")
    quota_mb = forms.IntegerField(
        label="Cache quota (MB)", required=False, min_value=100, max_value=10_000_000
    )
    # CernVM's boot loader (`cvmfs.ucernvm`): only the amiconfig format carries these.
    resize_rootfs = forms.BooleanField(
        label="CernVM: grow the root partition to the whole disk", required=False
    )
    cvmfs_branch = optional("CernVM: system repository", "e.g. cernvm-prod.cern.ch")
    cvmfs_server = line_list(
        "CernVM: system repository servers", "Stratum-1 host names, one per line", rows=2
    )
    cvmfs_tag = optional("CernVM: system snapshot", "e.g. cernvm-system-4.7.1.0")

    _UCERNVM = ("resize_rootfs", "cvmfs_branch", "cvmfs_server", "cvmfs_tag")

    @staticmethod
    def initial(doc):
        cvmfs = doc.get("cvmfs") or {}
        ucernvm = cvmfs.get("ucernvm") or {}
        return {
            "repositories": joined(cvmfs.get("repositories")),
            "http_proxy": cvmfs.get("http_proxy", ""),
            "quota_mb": cvmfs.get("quota_mb"),
            "resize_rootfs": bool(ucernvm.get("resize_rootfs")),
            "cvmfs_branch": ucernvm.get("cvmfs_branch", ""),
            "cvmfs_server": joined(ucernvm.get("cvmfs_server")),
            "cvmfs_tag": ucernvm.get("cvmfs_tag", ""),
        }

    def to_document(self, stored):
        data = self.cleaned_data
        ucernvm = compact(
            {**{k: data[k] for k in self._UCERNVM}, "cvmfs_server": words(data["cvmfs_server"])}
        )
        plain = {k: v for k, v in data.items() if k not in self._UCERNVM}
        return compact({**plain, "repositories": words(data["repositories"]), "ucernvm": ucernvm})


class ExtraRepositoryForm(SectionForm):
    name = optional("Repository name", "e.g. exp.example.org")
    server = optional("Stratum-1 URL", "@fqrn@ stands for the repository name")
    public_key = text("Public key (PEM)", rows=3)

    @staticmethod
    def initial(repo):
        return {k: repo.get(k, "") for k in ("name", "server", "public_key")}

    def clean(self):
        data = super().clean()
        if not self.is_blank():
            for field in ("name", "server"):
                if not data.get(field):
                    self.add_error(field, "Needed for an extra repository.")
        return data

    def to_document(self, stored):
        return compact({**self.cleaned_data, "public_key": unix_text(self.cleaned_data["public_key"])})


class EnvForm(SectionForm):
    env = line_list("Environment variables", "One KEY=value per line.", rows=4)

    @staticmethod
    def initial(doc):
        return {"env": joined(f"{k}={v}" for k, v in (doc.get("env") or {}).items())}

    def clean_env(self):
        env = {}
        for number, line in enumerate(self.cleaned_data["env"].splitlines(), start=1):
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise forms.ValidationError(f"Line {number}: write KEY=value.")
            if key.strip() in env:
                raise forms.ValidationError(f"Line {number}: {key.strip()} is set twice.")
            env[key.strip()] = value.strip()
        return env

    def to_document(self, stored):
        return self.cleaned_data["env"]


def _template_box(what):
    return forms.BooleanField(
        label=f"Evaluate {{{{ }}}} templates in the {what}", required=False, initial=True
    )


class FileForm(SectionForm):
    path = optional("Path", "Absolute, e.g. /etc/motd")
    content = text("Content")
    mode = optional("Mode", "e.g. 0644")
    owner = optional("Owner", "user or user:group")
    template = _template_box("content")

    @staticmethod
    def initial(item):
        return {
            **{k: item.get(k, "") for k in ("path", "content", "mode", "owner")},
            "template": item.get("template", True),
        }

    def clean(self):
        data = super().clean()
        if not data.get("path") and (data.get("content") or data.get("mode") or data.get("owner")):
            self.add_error("path", "Every file needs a path.")
        return data

    def is_blank(self):
        data = getattr(self, "cleaned_data", None) or {}
        return not any(data.get(k) for k in ("path", "content", "mode", "owner"))

    def to_document(self, stored):
        data = self.cleaned_data
        item = {"path": data["path"], "content": unix_text(data["content"])}
        item.update(compact({"mode": data["mode"], "owner": data["owner"]}))
        if not data["template"]:
            item["template"] = False
        return item


class ScriptForm(SectionForm):
    name = optional("Name", "e.g. setup")
    language = forms.ChoiceField(
        label="Language",
        required=False,
        choices=[("", "default (sh)"), ("sh", "sh"), ("bash", "bash"), ("python", "python")],
    )
    body = text("Script", rows=8)
    run = forms.ChoiceField(
        label="Run",
        required=False,
        choices=[("", "default (once)"), ("once", "once"), ("every-boot", "every boot")],
    )
    template = _template_box("script")

    @staticmethod
    def initial(item):
        return {
            **{k: item.get(k, "") for k in ("name", "language", "body", "run")},
            "template": item.get("template", True),
        }

    def clean(self):
        data = super().clean()
        if not data.get("name") and data.get("body"):
            self.add_error("name", "Every script needs a name.")
        return data

    def is_blank(self):
        data = getattr(self, "cleaned_data", None) or {}
        return not any(data.get(k) for k in ("name", "body"))

    def to_document(self, stored):
        data = self.cleaned_data
        item = {"name": data["name"], **compact({"language": data["language"]})}
        item["body"] = unix_text(data["body"])
        item.update(compact({"run": data["run"]}))
        if not data["template"]:
            item["template"] = False
        return item


class AdvancedForm(SectionForm):
    cloud_config = text(
        "Raw cloud-config (YAML)",
        "Merged last into the cloud-init output, e.g. ntp: {enabled: true}. Leave empty for none.",
        rows=8,
        wrap="off",
    )

    @staticmethod
    def initial(doc):
        return {"cloud_config": dump_yaml(doc["cloud_config"]) if doc.get("cloud_config") else ""}

    def clean_cloud_config(self):
        source = self.cleaned_data["cloud_config"]
        if not source.strip():
            return {}
        try:
            value = parse_yaml(unix_text(source))
        except DocumentInvalid as exc:
            if exc.messages[0].startswith("the document must be a mapping"):
                raise forms.ValidationError("Write a mapping of cloud-config keys, e.g. ntp: {enabled: true}")
            raise forms.ValidationError(exc.messages)
        return value

    def to_document(self, stored):
        return self.cleaned_data["cloud_config"]
