"""Rendering a profile document into user-data bytes (docs/user-data.md): pure functions, no database.

`render` fills in the templates, builds the format, and fits the result to the provider's limit
(`limits.UserDataLimit`, declared on the clusters app's provider classes). The
output is deterministic (password salts from `salt_seed`, MIME boundaries from a content hash, gzip
without a timestamp), so the preview, the API and `render_profile` agree byte for byte.
"""

from __future__ import annotations

import gzip
import re

from contexts.document import VALIDATOR
from contexts.render import amiconfig, cloudinit, shell
from contexts.render.checkin import Checkin
from contexts.render.common import Context, RenderError
from contexts.render.limits import UserDataLimit
from contexts.templating import TemplateProblem, format_path, render_document

__all__ = ["FORMATS", "RenderError", "UserDataLimit", "render"]

FORMATS = ("cloud-init", "amiconfig", "shell")

_BUILDERS = {"cloud-init": cloudinit.build, "amiconfig": amiconfig.build, "shell": shell.build}


def render(
    document: dict,
    variables: dict,
    fmt: str = "cloud-init",
    *,
    salt_seed: bytes,
    limit: UserDataLimit | None = None,
    redact: bool = False,
    checkin: dict | None = None,
) -> bytes:
    """User-data for a valid plain (or, with `redact`, redacted) document and launch variables.

    `checkin` = {"url": "<portal>/api/v1/instance/", "token": "<instance token>"} makes the VM
    install the `portal-instance` helper and check in with the portal (see `render.checkin`).
    With a `limit`, user-data over it is gzipped (cloud-init) or refused.
    """
    if fmt not in _BUILDERS:
        raise RenderError(f"unknown user-data format {fmt!r}; choose one of {', '.join(FORMATS)}")
    portal_checkin = None if checkin is None else Checkin.from_option(checkin)
    try:
        rendered = render_document(document, variables)
    except TemplateProblem as exc:
        raise RenderError(str(exc)) from None
    _check_host_name(rendered.get("hostname"))
    _check_template_results(document, rendered)
    try:
        data = _BUILDERS[fmt](Context(rendered, variables, salt_seed, redact, portal_checkin))
    except UnicodeEncodeError:
        raise RenderError("the document holds characters that are not valid Unicode text") from None
    return data if limit is None else _fit(data, fmt, limit)


def _check_template_results(document: dict, rendered: dict) -> None:
    """The document was valid before its templates ran; their results must be valid too.

    Only the sections a template changed are validated again (sections are independent in the
    schema), which keeps rendering a thousand instances fast.
    """
    changed = {key: value for key, value in rendered.items() if value != document[key]}
    if not changed:
        return
    for error in VALIDATOR.iter_errors({"schema": 1, **changed}):
        path = format_path(tuple(error.absolute_path)) or "document"
        if error.validator == "pattern" and isinstance(error.instance, str) and "\n" in error.instance:
            raise RenderError(f"{path}: the template produced a line break, which is not allowed here")
        raise RenderError(
            f"{path}: the template produced a value that is not allowed here ({error.message[:80]})"
        )


_HOST_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def _check_host_name(name: str | None) -> None:
    """A host name (RFC 1123) once its templates ran: the formats hand it to `hostname` as it is."""
    if name is None:
        return
    labels = name.rstrip(".").split(".")
    if len(name) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise RenderError(
            f"hostname: {name!r} is not a valid host name (letters, digits and '-', in labels separated by '.')"
        )


def _fit(data: bytes, fmt: str, limit: UserDataLimit) -> bytes:
    """Gzip cloud-init user-data that is over the provider's limit (cloud-init detects gzip)."""
    if len(data) <= limit.size:
        return data
    if fmt != "cloud-init":
        raise RenderError(f"user-data is {len(data):,} bytes; the {limit.name} limit is {limit.size:,} bytes")
    compressed = gzip.compress(data, compresslevel=9, mtime=0)
    if len(compressed) > limit.size:
        raise RenderError(
            f"user-data is {len(compressed):,} bytes (gzip-compressed); "
            f"the {limit.name} limit is {limit.size:,} bytes"
        )
    return compressed
