"""The REST API under /api/v1/ (docs/api.md). Paths are a contract: extend, don't rename."""

from django.urls import re_path

from clusters import api

urlpatterns = [
    re_path(r"^instance/checkin/?$", api.instance_checkin, name="api_instance_checkin"),
    # Any key reaches the view, which answers a malformed one with a JSON 400.
    re_path(r"^instance/kv/(?P<key>.+)$", api.instance_kv, name="api_instance_kv"),
]
