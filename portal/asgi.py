"""The portal as an ASGI application: what its web server runs (portal/gunicorn.conf.py).

A request for an async view (the rendezvous wait, `clusters.instance_api.instance_kv`) goes to Django's
ASGI handler and waits in the event loop. Every other request goes to Django's WSGI handler in a
bounded pool of threads (a2wsgi): the middleware and the view run in one thread, start to end, as
under a WSGI server. Django's ASGI handler hops between the event loop and a new thread for each
sync middleware and for the view: a view that does nothing answered 550 requests a second that
way, 2,800 through the pool (bench/web_bench.py, docs/instance-api.md).
"""

import os

from a2wsgi import WSGIMiddleware
from asgiref.sync import iscoroutinefunction
from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application
from django.urls import Resolver404, get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
# Threads per server process for the sync views; each holds at most one database connection.
# Python runs one thread at a time: on 2 cores, 4 served check-ins faster than 2 or 8.
WEB_THREADS = int(os.environ.get("WEB_THREADS", "4"))

_async_views = get_asgi_application()
_sync_views = WSGIMiddleware(get_wsgi_application(), workers=WEB_THREADS)


def is_async_view(path: str) -> bool:
    try:
        return iscoroutinefunction(get_resolver().resolve(path).func)
    except Resolver404:
        return False  # the 404 page is a sync view


async def application(scope, receive, send):
    if scope["type"] == "http" and not is_async_view(scope["path"]):
        return await _sync_views(scope, receive, send)
    return await _async_views(scope, receive, send)
