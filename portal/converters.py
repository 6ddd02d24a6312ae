"""URL converters shared by the apps."""

from django.urls import register_converter


class IdConverter:
    """A row id: digits, at most 18 of them, so that any id fits a 64-bit integer column (a
    longer one would be a database error, not the 404 it should be)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)


register_converter(IdConverter, "id")


def is_id(text: str) -> bool:
    """Whether a query-string value is a usable row id (see IdConverter)."""
    return text.isascii() and text.isdigit() and len(text) <= 18
