"""The instance API (docs/launches.md, docs/api.md): what a VM calls with its instance token — check-in, the
rendezvous store of its cluster and its head's queue reports (docs/elastic.md). The `portal-instance` helper in the user-data is its client
(contexts/render/checkin.py); scripts may call it directly with `{{ instance.token }}`.

Errors are JSON `{"detail": ...}` with 4xx codes. Bodies are JSON or form-encoded; a value may
also be a raw `text/plain` body, and `Accept: text/plain` gets a value back raw.

The views are DRF class views (`InstanceAPIView`), except the front of the rendezvous store, an
async view that hands every request to `InstanceKV`: a GET that waits for a key must hold neither a
server worker nor a database connection (docs/instance-api.md), and DRF's views are synchronous.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping

from asgiref.sync import sync_to_async
from django.db import connection
from django.http import HttpResponse
from django.utils.http import parse_header_parameters
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.parsers import BaseParser, FormParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from clusters import checkin, rendezvous
from clusters.elastic import reports, signals
from clusters.instance_auth import InstanceTokenAuthentication, IsInstance
from clusters.models.rendezvous import MAX_VALUE_BYTES
from portal import api_schema
from portal.api import JSONParser, PlainTextRenderer

# JSON escapes can make a 64 KiB value six times longer; anything beyond that is refused unread.
MAX_KV_BODY_BYTES = 8 * MAX_VALUE_BYTES
MAX_CHECKIN_BODY_BYTES = 64 * 1024


class BadRequest(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "bad request"
    default_code = "bad_request"


class TooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "the request body is too large"
    default_code = "too_large"


class PlainTextParser(BaseParser):
    media_type = "text/plain"

    def parse(self, stream, media_type=None, parser_context=None):
        charset = parse_header_parameters(media_type or "")[1].get("charset") or "utf-8"
        try:
            return stream.read().decode(charset)
        except (UnicodeDecodeError, LookupError):
            raise exceptions.ParseError(f"the body is not valid {charset} text")


# The base of the instance API's views: instance tokens only (`Authorization: Instance <token>`),
# answers in JSON. (A comment, not a docstring: the schema would take it as every operation's description.)
class InstanceAPIView(APIView):
    authentication_classes = [InstanceTokenAuthentication]
    permission_classes = [IsInstance]
    renderer_classes = [JSONRenderer]


class InstanceCheckin(InstanceAPIView):
    # The same authentication class (and so the same scheme in the API schema), without the cluster.
    authentication_classes = [functools.partial(InstanceTokenAuthentication, with_cluster=False)]
    parser_classes = [JSONParser, FormParser]

    @api_schema.instance_checkin
    def post(self, request):
        body = _body(request, MAX_CHECKIN_BODY_BYTES)
        reported, message = body.get("status"), body.get("message") or ""
        if not isinstance(reported, str) or not isinstance(message, str):
            raise BadRequest('send {"status": "booted" | "ready" | "failed", "message": "..."}')
        try:
            instance = checkin.record(request.auth, reported, message)
        except checkin.CheckinError as exc:
            raise BadRequest(str(exc))
        return Response(
            {
                "instance": instance.name,
                "state": instance.state,
                "checkin_status": instance.checkin_status,
                "ready_at": instance.ready_at,
            }
        )


@api_schema.instance_queue
class InstanceQueue(InstanceAPIView):
    """A head's batch-queue report (clusters.elastic.reports); the answer names the workers to drain."""

    parser_classes = [PlainTextParser]
    renderer_classes = [JSONRenderer, PlainTextRenderer]

    def post(self, request):
        text = _raw(request, signals.MAX_REPORT_BYTES)
        if not isinstance(text, str):
            raise BadRequest("send the report as text/plain")
        try:
            sample, drain = reports.record(request.auth, text)
        except signals.SignalError as exc:
            raise BadRequest(str(exc))
        if request.accepted_renderer.format == PlainTextRenderer.format:
            return Response("".join(f"{name}\n" for name in drain))
        return Response({"sample": sample.pk, "drain": drain})


@csrf_exempt
async def instance_kv(request, key: str):
    """A GET with `?wait=` waits here, in the event loop, holding no database connection
    (clusters.rendezvous); everything else, and every answer, is `InstanceKV`'s."""
    if request.method != "GET" or "wait" not in request.GET:
        return await sync_to_async(_instance_kv)(request, key)
    answer = await sync_to_async(_look)(request, key, may_wait=True)
    if not isinstance(answer, _Absent):
        return answer

    async def look(final: bool):
        again = await sync_to_async(_look)(request, key, may_wait=not final)
        return None if isinstance(again, _Absent) else again

    return await rendezvous.wait_for(answer.cluster, key, answer.seconds, look)


class _Absent(HttpResponse):
    """Not an answer: the key is absent and the caller will wait `seconds` for it."""

    def __init__(self, cluster, seconds: float):
        super().__init__(status=status.HTTP_404_NOT_FOUND)
        self.cluster, self.seconds = cluster, seconds


def _look(request, key: str, may_wait: bool) -> HttpResponse:
    answer = _instance_kv(request, key, may_wait=may_wait)
    if isinstance(answer, _Absent) and not connection.in_atomic_block:
        connection.close()  # not held while waiting; a test's transaction is not ours to end
    return answer


@api_schema.instance_kv
class InstanceKV(InstanceAPIView):
    parser_classes = [JSONParser, FormParser, PlainTextParser]
    renderer_classes = [JSONRenderer, PlainTextRenderer]

    # With `may_wait` (instance_kv's looks before the last), an absent key is answered `_Absent`.
    def get(self, request, key: str, may_wait: bool = False):
        _check_key(key)
        cluster = request.auth.cluster
        seconds = _wait_seconds(request.query_params.get("wait"))
        entry = rendezvous.read(cluster, key)
        if entry is None and seconds and may_wait:
            return _Absent(cluster, seconds)
        if entry is None:
            raise exceptions.NotFound(f"no value for {key} in this cluster")
        if request.accepted_renderer.format == PlainTextRenderer.format:
            return Response(entry.value)
        return Response(_entry(entry))

    def put(self, request, key: str):
        _check_key(key)
        return _put(request, key)


_instance_kv = InstanceKV.as_view()
# The OpenAPI schema describes the DRF view that instance_kv hands every request to.
instance_kv.cls, instance_kv.initkwargs = _instance_kv.cls, _instance_kv.initkwargs


def _check_key(key: str) -> None:
    try:
        rendezvous.check_key(key)
    except rendezvous.RendezvousError as exc:
        raise BadRequest(str(exc))


def _put(request, key: str) -> Response:
    if request.content_type.startswith(PlainTextParser.media_type):
        data = _raw(request, MAX_KV_BODY_BYTES)
        value = data if isinstance(data, str) else ""  # an empty body parses as {}
    else:
        value = _body(request, MAX_KV_BODY_BYTES).get("value")
        if not isinstance(value, str):
            raise BadRequest('send {"value": "..."} (a string) or a text/plain body')
    try:
        entry, created = rendezvous.write(request.auth, key, value)
    except rendezvous.ValueTooLarge as exc:
        raise TooLarge(str(exc))
    except rendezvous.RendezvousError as exc:
        raise BadRequest(str(exc))
    return Response(_entry(entry), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


def _entry(entry) -> dict:
    writer = entry.written_by
    return {
        "key": entry.key,
        "value": entry.value,
        "updated": entry.updated,
        "written_by": writer.name if writer else None,
    }


def _raw(request, limit: int):
    """The parsed body, refused unread when its declared length is over `limit`."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise TooLarge(f"the request body is {length:,} bytes; the limit is {limit:,}")
    return request.data


def _body(request, limit: int) -> Mapping:
    data = _raw(request, limit)
    if not isinstance(data, Mapping):
        raise BadRequest("the body must be a JSON object")
    return data


def _wait_seconds(text: str | None) -> float:
    """`?wait=N`: seconds to wait for the key, at most 30 (the client asks again for longer)."""
    if text is None:
        return 0
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise BadRequest("wait must be a number of seconds (at most 30)")
    return min(seconds, rendezvous.MAX_WAIT_SECONDS)
