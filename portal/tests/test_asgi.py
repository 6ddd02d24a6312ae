"""The portal's ASGI application (portal/asgi.py): an async view waits in the event loop; every other
view runs start to end in one thread of a bounded pool, as under a WSGI server."""

import threading

from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.http import HttpResponse
from django.test import override_settings
from django.urls import path

from portal.asgi import application, is_async_view

seen = {}


def sync_view(request):
    seen["sync"] = threading.current_thread().name
    return HttpResponse("sync")


async def async_view(request):
    seen["async"] = threading.current_thread().name
    return HttpResponse("async")


urlpatterns = [path("sync/", sync_view), path("async/", async_view)]


@async_to_sync
async def get(path: str) -> tuple[int, bytes]:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"testserver")], "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}  # fmt: skip
    communicator = ApplicationCommunicator(application, scope)
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(5)
    body = b""
    while True:
        message = await communicator.receive_output(5)
        body += message.get("body", b"")
        if not message.get("more_body"):
            return start["status"], body


def test_the_instance_api_waits_are_the_only_async_views():
    assert is_async_view("/api/v1/instance/kv/master.address")
    assert not is_async_view("/api/v1/instance/checkin")
    assert not is_async_view("/")
    assert not is_async_view("/no/such/page/")


@override_settings(ROOT_URLCONF=__name__)
def test_a_sync_view_runs_in_the_thread_pool_and_an_async_one_in_the_event_loop():
    assert get("/sync/") == (200, b"sync")
    assert seen["sync"].startswith("WSGI"), seen["sync"]
    assert get("/async/") == (200, b"async")
    assert not seen["async"].startswith("WSGI"), seen["async"]


@override_settings(ROOT_URLCONF=__name__)
def test_a_page_that_does_not_exist_is_the_portals_404():
    status, _body = get("/no/such/page/")
    assert status == 404
