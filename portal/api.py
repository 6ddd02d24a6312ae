"""What every REST API module shares (SPEC §9): the shape of a 400 and content negotiation
that leaves `?format=` to the views, where it names a user-data format."""

from __future__ import annotations

from rest_framework import status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.settings import api_settings


def invalid(detail: str, errors: list[str] | None = None) -> Response:
    """A 400 `{"detail": ..., "errors": [messages]}`: the detail says what, errors list each problem."""
    return Response({"detail": detail, "errors": errors or [detail]}, status=status.HTTP_400_BAD_REQUEST)


def error_messages(errors) -> list[str]:
    """Flat `field: message` lines from serializer or form errors (dicts of lists, nested)."""
    if isinstance(errors, dict):
        lines = []
        for field, problems in errors.items():
            for line in error_messages(problems):
                lines.append(line if field in ("non_field_errors", "__all__") else f"{field}: {line}")
        return lines
    if isinstance(errors, list | tuple):
        return [line for problem in errors for line in error_messages(problem)]
    return [str(errors)]


class _WithoutFormatOverride:
    URL_FORMAT_OVERRIDE = None

    def __getattr__(self, name):
        return getattr(api_settings, name)


class IgnoreFormatParameter(DefaultContentNegotiation):
    """DRF reads `?format=` as a renderer's name; the render endpoint reads it as cloud-init etc."""

    settings = _WithoutFormatOverride()
