"""What every REST API module shares (SPEC §9): the shape of a 400 and content negotiation
that leaves `?format=` to the views, where it names a user-data format."""

from __future__ import annotations

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

# The documented shapes of errors: every 400 carries `errors`, every other 4xx a `detail`.
ERROR = inline_serializer("Error", {"detail": serializers.CharField()})
INVALID = inline_serializer(
    "Invalid",
    {"detail": serializers.CharField(), "errors": serializers.ListField(child=serializers.CharField())},
)


def invalid(detail: str, errors: list[str] | None = None) -> Response:
    """A 400 `{"detail": ..., "errors": [messages]}`: the detail says what, errors list each problem."""
    return Response({"detail": detail, "errors": errors or [detail]}, status=status.HTTP_400_BAD_REQUEST)


def handle_exception(exc, context):
    """DRF's handler, with DRF's own 400s (a body that is not JSON, a serializer's errors) in
    the one 400 shape the schema documents."""
    response = exception_handler(exc, context)
    data = response.data if response is not None else None
    if (
        response is not None
        and response.status_code == 400
        and isinstance(data, dict)
        and "errors" not in data
    ):
        lines = error_messages({k: v for k, v in data.items() if k != "detail"})
        detail = str(data.get("detail") or (lines[0] if lines else "bad request"))
        response.data = {"detail": detail, "errors": lines or [detail]}
    return response


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
