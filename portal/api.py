"""What every REST API module shares (docs/api.md): the shape of a 400, the JSON parser, and content
negotiation that leaves `?format=` to the views, where it names a user-data format."""

from __future__ import annotations

from collections.abc import Mapping

from drf_spectacular.utils import inline_serializer
from rest_framework import parsers, serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
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


# No API body nests deeper than a profile document (32 levels) inside a request.
MAX_JSON_DEPTH = 64


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing (400) what Python's json reads but the server cannot use:
    nesting deeper than MAX_JSON_DEPTH (json recurses per level: 100,000 `[` were a
    RecursionError, a 500) and lone surrogates ("\\ud800" is valid JSON but not Unicode text,
    which the database and the pages cannot hold)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested too deeply (the limit is {MAX_JSON_DEPTH} levels)")
        problem = json_problem(data)
        if problem:
            raise ParseError(f"JSON parse error - {problem}")
        return data


def json_problem(data) -> str | None:
    """Why parsed JSON is refused, or None: too deep, or a text with a lone surrogate."""
    stack = [(data, 1, ())]
    while stack:
        value, level, path = stack.pop()
        if isinstance(value, str):
            problem = _surrogate(value)
            if problem:
                return f"the text at {_where(path)} {problem}"
        elif isinstance(value, dict | list):
            if level > MAX_JSON_DEPTH:
                return f"nested too deeply at {_where(path)} (the limit is {MAX_JSON_DEPTH} levels)"
            pairs = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in pairs:
                problem = _surrogate(key) if isinstance(key, str) else None
                if problem:
                    return f"a key in {_where(path)} {problem}"
                stack.append((item, level + 1, (*path, key)))
    return None


def _where(path: tuple) -> str:
    return "body" + "".join(f"[{key!r}]" for key in path)


def _surrogate(text: str) -> str | None:
    try:
        text.encode()
    except UnicodeEncodeError as exc:
        return f"holds a lone surrogate (\\u{ord(text[exc.start]):04x}), which is not valid Unicode text"
    return None


class _WithoutFormatOverride:
    URL_FORMAT_OVERRIDE = None

    def __getattr__(self, name):
        return getattr(api_settings, name)


class IgnoreFormatParameter(DefaultContentNegotiation):
    """DRF reads `?format=` as a renderer's name; the render endpoint reads it as cloud-init etc."""

    settings = _WithoutFormatOverride()


class PlainTextRenderer(BaseRenderer):
    """A value as it is; an error as its message."""

    media_type = "text/plain"
    format = "txt"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, Mapping):
            data = data.get("detail", "")
        return str(data).encode()
