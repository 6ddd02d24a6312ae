"""Every page alice can reach by following links sends the Content-Security-Policy, and none has
an inline script, an event handler, a <style> element or a style= attribute, which the policy
would block (docs/security.md, "Headers")."""

from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest

from clusters.tests.definition_helpers import make_definition, make_image, make_offering, make_profile
from clusters.tests.instance_helpers import make_cluster, make_instance

LINK_ATTRIBUTES = ("href", "hx-get", "src")
NOT_FOLLOWED = ("/accounts/logout/", "/static/", "/admin/")


class InlineCode(HTMLParser):
    """Collects the links of a page and whatever in it a strict policy would block."""

    def __init__(self):
        super().__init__()
        self.links, self.offences, self._script = [], [], None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.links += [attributes[name] for name in LINK_ATTRIBUTES if attributes.get(name)]
        if tag == "style":
            self.offences.append("a <style> element")
        if "style" in attributes:
            self.offences.append(f"<{tag} style={attributes['style']!r}>")
        self.offences += [f"<{tag} {name}=...>" for name in attributes if name.startswith("on")]
        if tag == "script":
            self._script = attributes
            if "src" not in attributes:
                self.offences.append("a <script> with no src")

    def handle_data(self, data):
        if self._script is not None and data.strip():
            self.offences.append(f"an inline script {data.strip()[:40]!r}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None


def offences_in(html: str) -> tuple[list[str], list[str]]:
    parser = InlineCode()
    parser.feed(html)
    return parser.links, parser.offences


def test_the_parser_sees_what_the_policy_blocks():
    _links, found = offences_in(
        '<script>go()</script><script src="/a.js"></script><p style="color: red" onclick="x()">'
        "<style>p {}</style>"
    )
    assert len(found) == 5
    assert offences_in('<script src="/a.js"></script><p class="mw-24rem">')[1] == []


@pytest.fixture
def alices_things(alice):
    """Something on every kind of page: a profile, a definition, a cloud, a cluster with an instance."""
    profile = make_profile(alice, "Condor")
    image = make_image(alice)
    make_definition(
        alice, roles=[{"name": "worker", "profile": profile, "image": image, "offering": make_offering()}]
    )
    cluster = make_cluster(alice, "demo")
    make_instance(cluster)


def crawl(client, start="/", limit=200) -> dict[str, object]:
    """Every page reachable from `start` by links within the portal (GET only), by path."""
    seen, queue = {}, [start]
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        response = seen[path] = client.get(path)
        if "text/html" not in response.get("Content-Type", ""):
            continue
        links, _ = offences_in(response.content.decode())
        for link in links:
            link = urldefrag(link).url
            parts = urlsplit(link)
            if parts.netloc or not link.startswith("/") or link.startswith(NOT_FOLLOWED):
                continue
            queue.append(link)
    return seen


@pytest.mark.django_db
def test_every_page_alice_reaches_has_the_policy_and_no_inline_code(alice_client, alices_things):
    pages = crawl(alice_client)
    assert len(pages) > 25, sorted(pages)  # the crawl went through the portal, not one page
    assert {path for path, r in pages.items() if r.status_code >= 500} == set()
    missing = [path for path, response in pages.items() if "Content-Security-Policy" not in response]
    assert missing == []
    policy = pages["/"]["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "unsafe" not in policy
    found = {
        path: offences_in(response.content.decode())[1]
        for path, response in pages.items()
        if "text/html" in response.get("Content-Type", "")
    }
    assert {path: problems for path, problems in found.items() if problems} == {}


@pytest.mark.django_db
def test_a_visitors_pages_have_the_policy_too(client):
    pages = crawl(client)
    assert "/accounts/login/" in pages and "/accounts/signup/" in pages
    assert [path for path, response in pages.items() if "Content-Security-Policy" not in response] == []
    assert "Content-Security-Policy" in client.get("/no/such/page/")
