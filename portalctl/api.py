"""portalctl's client of the REST API (docs/api.md): one call, its JSON, and its errors on one line.
Standard library only."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

TIMEOUT = 30  # seconds for one HTTP request


class CommandError(Exception):
    """Reported on one line; `code` is the exit status."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


class ApiError(CommandError):
    pass


class Api:
    def __init__(self, url: str, token: str):
        self.base = url.rstrip("/") + "/api/v1/"
        self.token = token

    def call(self, method: str, path: str, body=None, query=None, *, raw=False):
        """The answer's JSON (or its text when `raw`); an ApiError with the status and detail."""
        url = urllib.parse.urljoin(self.base, path)
        if query:
            url += "?" + urllib.parse.urlencode(query, doseq=True)
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Token {self.token}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:  # noqa: S310
                content = answer.read()
        except urllib.error.HTTPError as exc:
            raise ApiError(f"{method} {url}: HTTP {exc.code}: {_detail(exc)}")
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ApiError(f"{method} {url}: cannot reach the portal: {reason}")
        if raw:
            return content  # user-data may be gzip-compressed bytes
        text = content.decode("utf-8", "replace")
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise ApiError(f"{method} {url}: the answer is not JSON: {text[:200]!r}")


def _detail(error: urllib.error.HTTPError) -> str:
    """The API's `detail` and `errors`, else the start of the body, else the reason."""
    try:
        text = error.read().decode("utf-8", "replace")
    except OSError:
        text = ""
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip()[:200] or str(error.reason)
    if isinstance(data, dict):
        detail = str(data.get("detail") or error.reason)
        errors = data.get("errors")
        if isinstance(errors, list) and errors:
            detail += ": " + "; ".join(str(e) for e in errors)
        elif not data.get("detail"):
            detail = json.dumps(data)
        return detail
    return json.dumps(data)[:200]


def items(answer):
    """A list answer, paginated (`results`) or not."""
    return answer.get("results", []) if isinstance(answer, dict) else answer
