"""OpenAPI descriptions (drf-spectacular) of the API views that are not serializer-based: the
instance API's token scheme and the shapes the instance and pairing views read and answer.
Kept here so those views only gain a decorator."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers

from contexts.render import FORMATS

ERROR = inline_serializer("Detail", {"detail": serializers.CharField()})


class InstanceTokenScheme(OpenApiAuthenticationExtension):
    target_class = "clusters.instance_auth.InstanceTokenAuthentication"
    name = "instanceToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Instance <token>`: the token in the instance's user-data.",
        }


instance_checkin = extend_schema(
    summary="An instance reports its boot status",
    request=inline_serializer(
        "CheckinRequest",
        {
            "status": serializers.ChoiceField(choices=["booted", "ready", "failed"]),
            "message": serializers.CharField(required=False, allow_blank=True),
        },
    ),
    responses={
        200: inline_serializer(
            "CheckinResponse",
            {
                "instance": serializers.CharField(),
                "state": serializers.CharField(),
                "checkin_status": serializers.CharField(),
                "ready_at": serializers.DateTimeField(allow_null=True),
            },
        ),
        400: ERROR,
        401: ERROR,
        413: ERROR,
    },
)

_ENTRY = inline_serializer(
    "KeyValueEntry", {"key": serializers.CharField(), "value": serializers.CharField()}
)
instance_kv = extend_schema(
    summary="Read (optionally waiting) or write a key of the instance's cluster rendezvous store",
    parameters=[
        OpenApiParameter("wait", OpenApiTypes.NUMBER, description="Seconds to wait for the key (GET).")
    ],
    request={
        "application/json": inline_serializer("KeyValuePut", {"value": serializers.CharField()}),
        "text/plain": OpenApiTypes.STR,
    },
    responses={200: _ENTRY, 400: ERROR, 401: ERROR, 404: ERROR, 413: ERROR},
)

instance_queue = extend_schema(
    summary="A cluster's head reports its batch queue; the answer names the workers to drain",
    request={"text/plain": OpenApiTypes.STR},
    responses={
        200: inline_serializer(
            "QueueReportAnswer",
            {
                "sample": serializers.IntegerField(),
                "drain": serializers.ListField(child=serializers.CharField()),
            },
        ),
        400: ERROR,
        401: ERROR,
        413: ERROR,
    },
)

pairing_create = extend_schema(
    summary="A VM asks to be paired (no authentication)",
    auth=[],
    request=inline_serializer(
        "PairingCreate", {"format": serializers.ChoiceField(choices=list(FORMATS), required=False)}
    ),
    responses={
        201: inline_serializer(
            "PairingCreated",
            {
                "pin": serializers.CharField(),
                "poll_url": serializers.URLField(),
                "expires_at": serializers.DateTimeField(),
            },
        ),
        400: ERROR,
        429: ERROR,
    },
)

pairing_poll = extend_schema(
    summary="The VM polls for its user-data (no authentication)",
    auth=[],
    responses={
        (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="The user-data."),
        202: ERROR,
        410: ERROR,
    },
)

pairing_claim = extend_schema(
    summary="Claim a waiting VM by its PIN and give it a profile's user-data",
    request=inline_serializer(
        "PairingClaim",
        {
            "pin": serializers.CharField(),
            "profile": serializers.IntegerField(),
            "format": serializers.ChoiceField(choices=list(FORMATS), required=False),
        },
    ),
    responses={
        200: inline_serializer(
            "PairingClaimed",
            {
                "id": serializers.IntegerField(),
                "name": serializers.CharField(),
                "address": serializers.CharField(),
                "profile": serializers.IntegerField(),
                "revision": serializers.IntegerField(),
                "format": serializers.CharField(),
            },
        ),
        400: ERROR,
        404: ERROR,
        429: ERROR,
    },
)
