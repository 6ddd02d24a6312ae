"""The one place that tells an htmx request from a plain one (docs/architecture.md, "Pages").

A view that answers a form both ways gives htmx the partial it swaps into the page, and a plain
browser (no JavaScript) the redirect to the whole page. The partials' own URLs (a cluster's live
part, a cloud's check and queue status) answer the partial to anyone: only the page's htmx asks
for them, and a URL of their own keeps a partial out of the browser's cache of the whole page."""


def is_htmx(request) -> bool:
    """A request htmx sent, which wants a partial back: htmx says so in its `HX-Request` header."""
    return request.headers.get("HX-Request") == "true"
