"""The pairing API (docs/pairing.md, docs/api.md): a VM asks for a PIN and polls; a user claims the PIN.

`POST /api/v1/pairing/` (no auth) → 201 {"pin", "poll_url", "expires_at"}; `GET poll_url` → 202
while waiting, 200 with the user-data as text once paired, 410 when expired or already collected.
`POST /api/v1/pairing/claim/` {"pin", "profile", "format"} pairs as the `/pair/` page does.
Errors are JSON `{"detail": ...}` with 4xx codes; a 429 (a limit, see contexts.pairing) comes with
Retry-After, a 503 when the limits cannot be checked.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from rest_framework import status
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from audit import record
from contexts import pairing
from contexts.access import get_profile_for_user
from portal import api_schema
from portal.api import JSONParser


def _body(request) -> Mapping:
    return request.data if isinstance(request.data, Mapping) else {}


def _refusal(exc: pairing.PairingError) -> Response:
    response = Response({"detail": exc.message}, status=exc.status)
    if isinstance(exc, pairing.TooManyRequests):
        response["Retry-After"] = str(exc.retry_after)
    return response


class PairingCreate(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser, FormParser]

    @api_schema.pairing_create
    def post(self, request):
        requested_format = _body(request).get("format") or ""
        if not isinstance(requested_format, str):
            return Response({"detail": "format must be a string"}, status=status.HTTP_400_BAD_REQUEST)
        try:
            pairing_request, token = pairing.create_request(request.META.get("REMOTE_ADDR"), requested_format)
        except pairing.PairingError as exc:
            return _refusal(exc)
        record.pairing_requested(request, pairing_request)
        poll_url = request.build_absolute_uri(reverse("pairing_poll", args=[token]))
        return Response(
            {"pin": pairing_request.pin, "poll_url": poll_url, "expires_at": pairing_request.expires_at},
            status=status.HTTP_201_CREATED,
        )


@method_decorator(never_cache, name="dispatch")
class PairingPoll(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    # No HEAD: answered as a GET, it would collect the user-data, which a machine gets only once.
    http_method_names = ["get", "options"]

    @api_schema.pairing_poll
    def get(self, request, token: str):
        try:
            pairing_request, data = pairing.collect(token)
        except pairing.Waiting:
            return Response({"detail": "waiting"}, status=status.HTTP_202_ACCEPTED)
        except pairing.PairingError as exc:
            return _refusal(exc)
        return HttpResponse(data, content_type="text/plain; charset=utf-8")


class PairingClaim(APIView):
    parser_classes = [JSONParser, FormParser]

    @api_schema.pairing_claim
    def post(self, request):
        body = _body(request)
        pin, profile_id, fmt = body.get("pin"), body.get("profile"), body.get("format") or ""
        if not isinstance(pin, str) or not isinstance(fmt, str) or not str(profile_id).isdigit():
            return Response(
                {
                    "detail": 'send {"pin": "...", "profile": <profile id>, "format": "cloud-init|amiconfig|shell"}'
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            profile = get_profile_for_user(request, int(profile_id))
        except Http404:
            return Response({"detail": "No such profile."}, status=status.HTTP_404_NOT_FOUND)
        try:
            pairing_request = pairing.claim(
                request.user, pin, profile, fmt, address=request.META.get("REMOTE_ADDR")
            )
        except pairing.PairingError as exc:
            return _refusal(exc)
        record.pairing_claimed(request, pairing_request)
        return Response(
            {
                "id": pairing_request.pk,
                "name": pairing_request.machine_name,
                "address": pairing_request.address,
                "profile": profile.pk,
                "revision": pairing_request.revision.number,
                "format": pairing_request.format,
            }
        )
