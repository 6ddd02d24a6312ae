"""Previews and downloads of a revision's user-data: the pages' side of `render_revision`.

The preview's variables default to `templating.preview_variables`, shown to the user as the
`--var` lines they are, so `manage.py render_profile ID --format F --var ...` with the same
lines gives the same bytes as the download.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from django.conf import settings

from contexts.forms import PreviewForm
from contexts.profiles import render_revision
from contexts.render import FORMATS, RenderError
from contexts.secrets import SecretError
from contexts.templating import preview_variables

GZIP_MAGIC = b"\x1f\x8b"
_EXTENSIONS = {"amiconfig": "ini", "shell": "sh"}


def preview_form(query, document: dict) -> PreviewForm:
    """The variables form, bound to the query string or, without one, to the default values."""
    if "vars" in query:
        return PreviewForm(query)
    defaults = preview_variables(document, settings.PORTAL_URL)
    return PreviewForm({"vars": "\n".join(f"{k}={v}" for k, v in defaults.items()), "provider": ""})


@dataclass
class Output:
    fmt: str
    data: bytes = b""
    error: str = ""
    command: str = ""  # the render_profile command line giving the same bytes as the download

    @property
    def compressed(self) -> bool:
        return self.data[:2] == GZIP_MAGIC

    @property
    def text(self) -> str:
        return "" if self.compressed else self.data.decode("utf-8", errors="replace")

    @property
    def content_type(self) -> str:
        return "application/gzip" if self.compressed else "text/plain; charset=utf-8"

    def filename(self, profile, revision) -> str:
        """`<slug>-r<N>.<ext>`: .yaml for cloud-init, .ini, .sh; .gz when compressed."""
        extension = _EXTENSIONS.get(self.fmt) or "yaml"
        suffix = ".gz" if self.compressed else ""
        return f"{profile.slug}-r{revision.number}.{extension}{suffix}"


def render_output(revision, form: PreviewForm, fmt: str, *, redact: bool) -> Output:
    """One format rendered with the form's variables; a render problem becomes `error`."""
    provider = form.cleaned_data["provider"] or None
    try:
        return Output(fmt, render_revision(revision, form.variables, fmt, provider=provider, redact=redact))
    except (RenderError, SecretError) as exc:
        return Output(fmt, error=str(exc))


def render_outputs(revision, form: PreviewForm, *, download_redacted: bool) -> list[Output]:
    """The redacted preview of every format, each with the command that gives its download."""
    outputs = [render_output(revision, form, fmt, redact=True) for fmt in FORMATS]
    for output in outputs:
        output.command = command_line(revision, form, output.fmt, redact=download_redacted)
    return outputs


def command_line(revision, form: PreviewForm, fmt: str, *, redact: bool) -> str:
    """The `render_profile` command that prints the same bytes as the download."""
    words = ["python", "manage.py", "render_profile", str(revision.profile_id), "--format", fmt]
    words += ["--revision", str(revision.number)]
    for pair in form.cleaned_data["vars"]:
        words += ["--var", pair]
    if form.cleaned_data["provider"]:
        words += ["--provider", form.cleaned_data["provider"]]
    return shlex.join(words + (["--redact"] if redact else []))
