"""The portal's URLs plus one view that touches no database: the ceiling bench/web_bench.py
measures beside the check-in (what the server, Django and its middleware cost alone)."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from portal.urls import handler404  # noqa: F401 - the portal's own 404 page
from portal.urls import urlpatterns as portal_urlpatterns


@csrf_exempt
def ceiling(request):
    """A POST answered like a check-in, with a small JSON body, and nothing else."""
    return HttpResponse(b'{"state": "running"}', content_type="application/json")


urlpatterns = [path("bench/ceiling", ceiling), *portal_urlpatterns]
