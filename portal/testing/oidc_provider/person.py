"""A person at the test provider, with `requests` for a browser: log in on its form, then allow
(or refuse) the portal on its consent page. Each step is a real HTTP request to the provider."""

from __future__ import annotations

from html.parser import HTMLParser

import requests


class _Form(HTMLParser):
    """The first form's hidden inputs (the consent page carries the request in them)."""

    def __init__(self):
        super().__init__()
        self.hidden = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "hidden" and attrs.get("name"):
            self.hidden[attrs["name"]] = attrs.get("value") or ""


def hidden_fields(html: str) -> dict:
    form = _Form()
    form.feed(html)
    return form.hidden


class PersonAtProvider:
    def __init__(self, username: str, password: str):
        self.username, self.password = username, password
        self.session = requests.Session()

    def answer(self, authorize_url: str, *, allow: bool = True) -> str:
        """Follow the portal's redirect to the provider; log in if asked; consent (or not).
        Returns where the provider sends the browser back: the portal's callback URL."""
        page = self.session.get(authorize_url, timeout=30)
        page.raise_for_status()
        if "/accounts/login/" in page.url:
            fields = {**hidden_fields(page.text), "username": self.username, "password": self.password}
            page = self.session.post(page.url, data=fields, timeout=30)
            page.raise_for_status()
        return self.consent(page, allow=allow)

    def consent(self, page: requests.Response, *, allow: bool) -> str:
        fields = hidden_fields(page.text)
        assert "redirect_uri" in fields, f"no consent form at {page.url}: {page.text[:500]}"
        if allow:
            fields["allow"] = "Authorize"
        back = self.session.post(page.url, data=fields, allow_redirects=False, timeout=30)
        assert back.status_code == 302, back.text[:500]
        return back.headers["Location"]
