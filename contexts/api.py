"""The profiles API under /api/v1/profiles/ (docs/api.md): the pages' rules, in JSON.

A profile is reached through `get_profile_for_user` (a private one is a 404 to strangers, only
its owner changes it); documents go through `contexts.profiles` (validated, secrets sealed) and
come back redacted; `render/` gives the same bytes as the page's download.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import ProtectedError
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from contexts import marketplace
from contexts.access import get_profile_for_user
from contexts.document import DocumentInvalid
from contexts.models import Profile, Visibility
from contexts.preview import GZIP_MAGIC
from contexts.profiles import add_revision, create_profile, render_revision, set_tags, shown_document
from contexts.render import FORMATS, RenderError
from contexts.render.limits import known_limits
from contexts.secrets import SecretError
from contexts.templating import VariableError, parse_variables
from portal.api import ERROR, INVALID, IgnoreFormatParameter, PlainTextRenderer, error_messages, invalid
from portal.converters import is_id


class ProfileSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    tags = serializers.SerializerMethodField()
    revision = serializers.IntegerField(source="latest.number", read_only=True, allow_null=True)

    class Meta:
        model = Profile
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "visibility",
            "tags",
            "owner",
            "revision",
            "created",
            "updated",
        ]
        read_only_fields = fields

    def get_tags(self, profile) -> list[str]:
        return [tag.name for tag in profile.tags.all()]


class ProfileDetailSerializer(ProfileSerializer):
    document = serializers.SerializerMethodField(help_text="The latest revision; secrets shown as ********.")
    forked_from = serializers.IntegerField(source="forked_from.profile_id", read_only=True, allow_null=True)

    class Meta(ProfileSerializer.Meta):
        fields = [*ProfileSerializer.Meta.fields, "forked_from", "document"]
        read_only_fields = fields

    def get_document(self, profile) -> dict:
        return shown_document(profile.latest)


class ProfileInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=20)
    document = serializers.DictField(
        help_text="The profile document (docs/profiles.md). A secret sent as ******** keeps the stored one."
    )
    message = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="The new revision's message."
    )


def _profile_response(profile: Profile, code=status.HTTP_200_OK) -> Response:
    profile = Profile.objects.select_related("owner", "latest", "forked_from").get(pk=profile.pk)
    return Response(ProfileDetailSerializer(profile).data, status=code)


class ProfileList(ListAPIView):
    serializer_class = ProfileSerializer

    def get_queryset(self):
        if self.request.query_params.get("public") in ("1", "true", "yes"):
            profiles = Profile.objects.filter(visibility=Visibility.PUBLIC)
        else:
            profiles = Profile.objects.filter(owner=self.request.user)
        return profiles.select_related("owner", "latest").defer("latest__document").prefetch_related("tags")

    @extend_schema(
        parameters=[
            OpenApiParameter("public", OpenApiTypes.BOOL, description="Public profiles, not your own.")
        ]
    )
    def get(self, request):
        """Your profiles, or with `public=1` everyone's public ones."""
        return self.list(request)

    @extend_schema(
        request=ProfileInputSerializer,
        responses={201: ProfileDetailSerializer, 400: INVALID},
    )
    def post(self, request):
        data = ProfileInputSerializer(data=request.data)
        if not data.is_valid():
            return invalid("The profile is not valid.", error_messages(data.errors))
        values = data.validated_data
        try:
            profile = create_profile(
                request.user,
                values["name"],
                values["document"],
                description=values.get("description", ""),
                visibility=values.get("visibility", Visibility.PRIVATE),
                tags=values.get("tags", ()),
                message=values.get("message") or "Created",
            )
        except DocumentInvalid as exc:
            return invalid("The document is not valid.", exc.messages)
        return _profile_response(profile, status.HTTP_201_CREATED)


class ProfileDetail(GenericAPIView):
    serializer_class = ProfileDetailSerializer
    queryset = Profile.objects.none()  # reached through get_profile_for_user only

    def get_object(self):  # what OPTIONS describes: the profile as its owner would change it
        return get_profile_for_user(self.request, self.kwargs["profile_id"], write=True)

    @extend_schema(responses={200: ProfileDetailSerializer, 404: ERROR})
    def get(self, request, profile_id: int):
        return _profile_response(get_profile_for_user(request, profile_id))

    @extend_schema(request=ProfileInputSerializer, responses={200: ProfileDetailSerializer, 400: INVALID})
    def put(self, request, profile_id: int):
        return self._change(request, profile_id, partial=False)

    @extend_schema(request=ProfileInputSerializer, responses={200: ProfileDetailSerializer, 400: INVALID})
    def patch(self, request, profile_id: int):
        return self._change(request, profile_id, partial=True)

    @extend_schema(responses={204: None, 404: ERROR, 409: ERROR})
    def delete(self, request, profile_id: int):
        profile = get_profile_for_user(request, profile_id, write=True)
        try:
            profile.delete()
        except ProtectedError as exc:
            users = ", ".join(sorted({str(o) for o in exc.protected_objects})[:5])
            return Response(
                {"detail": f"The profile is still used by {users}: remove it from them first."},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _change(self, request, profile_id: int, *, partial: bool) -> Response:
        """Metadata is updated in place; a changed document becomes a new revision."""
        profile = get_profile_for_user(request, profile_id, write=True)
        data = ProfileInputSerializer(data=request.data, partial=partial)
        if not data.is_valid():
            return invalid("The profile is not valid.", error_messages(data.errors))
        values = data.validated_data
        try:
            with transaction.atomic():
                document = values.get("document")
                if document is not None and document != shown_document(profile.latest):
                    add_revision(profile, document, author=request.user, message=values.get("message", ""))
                for field in ("name", "description", "visibility"):
                    if field in values:
                        setattr(profile, field, values[field])
                profile.save()
                if "tags" in values:
                    set_tags(profile, values["tags"])
        except DocumentInvalid as exc:
            return invalid("The document is not valid.", exc.messages)
        return _profile_response(profile)


class ProfileRender(GenericAPIView):
    """The user-data: real for the owner (secrets hashed in), redacted for anyone else."""

    renderer_classes = [JSONRenderer, PlainTextRenderer]
    content_negotiation_class = IgnoreFormatParameter
    queryset = Profile.objects.none()

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=list(FORMATS), default=FORMATS[0]),
            OpenApiParameter(
                "var", str, many=True, description="A dotted key=value, e.g. cluster.name=demo; repeatable."
            ),
            # The providers the clusters app registered when it started (before URLs are loaded).
            OpenApiParameter("provider", str, enum=list(known_limits()), description="Apply its size limit."),
            OpenApiParameter("revision", int, description="A revision number; the latest by default."),
        ],
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="The user-data."),
            (200, "application/gzip"): OpenApiResponse(OpenApiTypes.BINARY, description="Compressed."),
            400: INVALID,
            404: ERROR,
        },
    )
    def get(self, request, profile_id: int):
        profile = get_profile_for_user(request, profile_id)
        query = request.query_params
        fmt = query.get("format") or FORMATS[0]
        if fmt not in FORMATS:
            return invalid(f"Unknown user-data format {fmt!r}; choose one of {', '.join(FORMATS)}.")
        revision = profile.latest
        if query.get("revision"):
            number = query["revision"]
            revision = profile.revisions.filter(number=number).first() if is_id(number) else None
            if revision is None:
                return invalid(f"No revision {number!r} of this profile.")
        try:
            variables = parse_variables(query.getlist("var"))
            data = render_revision(
                revision,
                variables,
                fmt,
                provider=query.get("provider") or None,
                redact=profile.owner_id != request.user.id,
            )
        except (VariableError, RenderError, SecretError) as exc:
            return invalid(f"Cannot render {fmt}: {exc}")
        content_type = "application/gzip" if data[:2] == GZIP_MAGIC else "text/plain; charset=utf-8"
        return HttpResponse(data, content_type=content_type)


class ProfileFork(GenericAPIView):
    serializer_class = ProfileDetailSerializer
    queryset = Profile.objects.none()

    @extend_schema(request=None, responses={201: ProfileDetailSerializer, 404: ERROR})
    def post(self, request, profile_id: int):
        """A private copy for you, without the source's secrets."""
        source = get_profile_for_user(request, profile_id)
        return _profile_response(marketplace.fork(source, request.user), status.HTTP_201_CREATED)
