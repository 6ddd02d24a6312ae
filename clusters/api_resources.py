"""The clouds, offerings and images API under /api/v1/ (docs/clouds.md, docs/api.md): the cloud pages' rules in JSON.

A cloud is reached through `get_cloud_for_user` (another user's is a 404; a site-wide one is read
by all and changed by staff only) and validated by the pages' `CloudForm`, so both accept the
same clouds. Credentials go in and never come out: a cloud answers with `credentials_set`, the
names of the ones stored, as the page shows a "set" badge.
"""

from __future__ import annotations

from django.db.models import ProtectedError
from django.shortcuts import get_object_or_404
from django.views.decorators.debug import sensitive_variables
from drf_spectacular.utils import OpenApiParameter, extend_schema
from kombu.exceptions import OperationalError
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.response import Response

from audit import record
from clusters.access import get_cloud_for_user
from clusters.forms import ENDPOINT_FIELDS, PARAM_PREFIX, CloudForm, ImageForm
from clusters.models import DEFAULT_QUEUE, CheckState, Cloud, Image, ServiceOffering
from clusters.providers import PROVIDERS, provider_class
from clusters.tasks import start_check
from portal.api import ERROR, INVALID, error_messages, invalid
from portal.converters import is_id

# The cloud's own fields a client may send; the driver's parameters come in `credentials` and `options`.
FORM_FIELDS = ("name", "served_by_agent", *ENDPOINT_FIELDS, "queue", "api_concurrency", "instance_quota")


class CloudSerializer(serializers.ModelSerializer):
    site_wide = serializers.BooleanField(source="is_site_wide", read_only=True)
    owner = serializers.CharField(source="owner.username", read_only=True, allow_null=True)
    credentials_set = serializers.SerializerMethodField(help_text="Names of the stored credentials.")
    can_edit = serializers.SerializerMethodField()

    class Meta:
        model = Cloud
        fields = [
            "id",
            "name",
            "driver",
            *Cloud.ENDPOINT_FIELDS,
            "options",
            "queue",
            "served_by_agent",
            "api_concurrency",
            "instance_quota",
            "site_wide",
            "owner",
            "credentials_set",
            "can_edit",
            "check_state",
            "check_message",
            "checked_at",
            "created",
            "updated",
        ]
        read_only_fields = fields

    def get_credentials_set(self, cloud) -> list[str]:
        return cloud.credential_names()

    def get_can_edit(self, cloud) -> bool:
        return cloud.can_edit(self.context["request"].user)


class CloudInputSerializer(serializers.Serializer):
    """What a client sends; checked further by the pages' CloudForm for the cloud's driver."""

    name = serializers.CharField(max_length=100)
    driver = serializers.ChoiceField(choices=list(PROVIDERS), help_text="Fixed once the cloud exists.")
    host = serializers.CharField(required=False, allow_blank=True, max_length=255)
    port = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=65535)
    path = serializers.CharField(required=False, allow_blank=True, max_length=255)
    secure = serializers.BooleanField(required=False)
    region = serializers.CharField(required=False, allow_blank=True, max_length=100)
    zone = serializers.CharField(required=False, allow_blank=True, max_length=100)
    queue = serializers.CharField(required=False, max_length=64)
    served_by_agent = serializers.BooleanField(required=False)
    api_concurrency = serializers.IntegerField(required=False, min_value=1, max_value=1000)
    instance_quota = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    site_wide = serializers.BooleanField(required=False, help_text="Staff only, on create.")
    credentials = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        help_text='The driver\'s sensitive parameters, e.g. {"key", "secret"}. Never returned; '
        "a missing one keeps the stored value.",
    )
    options = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        help_text="The driver's other parameters.",
    )


class CheckSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=CheckState.choices)
    message = serializers.CharField()
    checked_at = serializers.DateTimeField(allow_null=True)


def _cloud_response(request, cloud: Cloud, code=status.HTTP_200_OK) -> Response:
    return Response(CloudSerializer(cloud, context={"request": request}).data, status=code)


@sensitive_variables("values", "data", "credentials")
def _save_cloud(request, cloud: Cloud | None, *, partial: bool) -> Response:
    """Validate with the page's form (the same rules as the page) and save; a 400 otherwise."""
    body = CloudInputSerializer(data=request.data, partial=partial)
    if not body.is_valid():
        return invalid("The cloud is not valid.", error_messages(body.errors))
    values = body.validated_data
    driver = cloud.driver if cloud else values["driver"]
    if cloud and values.get("driver", driver) != driver:
        return invalid("A cloud's driver cannot change; add a new cloud instead.")
    if values.get("site_wide") and (cloud or not request.user.is_staff):
        raise PermissionDenied("Only staff add site-wide clouds, and only when adding them.")
    parameters = provider_class(driver).parameters
    credentials, options = values.get("credentials", {}), values.get("options", {})
    sensitive = {p.name for p in parameters if p.sensitive}
    unknown = [
        f"credentials: unknown credential {n!r} for {driver}" for n in credentials if n not in sensitive
    ]
    unknown += [
        f"options: unknown option {n!r} for {driver}"
        for n in options
        if n not in {p.name for p in parameters} - sensitive
    ]
    if unknown:
        return invalid("The cloud is not valid.", unknown)

    base = cloud or Cloud(queue=DEFAULT_QUEUE)
    data = {field: getattr(base, field) for field in FORM_FIELDS}
    data.update({field: values[field] for field in FORM_FIELDS if field in values})
    data = {key: "" if value is None else value for key, value in data.items()}
    data["site_wide"] = values.get("site_wide", False)
    for param in parameters:
        if param.sensitive:
            data[PARAM_PREFIX + param.name] = credentials.get(param.name, "")  # blank keeps the stored one
        else:
            stored = base.options.get(param.name, param.default) if cloud else param.default
            data[PARAM_PREFIX + param.name] = options.get(param.name, stored)
    form = CloudForm(data, driver=driver, user=request.user, instance=cloud)
    if not form.is_valid():
        errors = {k.removeprefix(PARAM_PREFIX): v for k, v in form.errors.items()}
        return invalid("The cloud is not valid.", error_messages(errors))
    saved = form.save()
    if cloud:
        record.cloud_edited(request, form)
    else:
        record.cloud_added(request, saved)
    return _cloud_response(request, saved, status.HTTP_200_OK if cloud else status.HTTP_201_CREATED)


class CloudList(ListAPIView):
    serializer_class = CloudSerializer

    def get_queryset(self):
        return Cloud.objects.usable_by(self.request.user).select_related("owner").order_by("name", "pk")

    def get(self, request):
        """Your clouds and the site-wide ones."""
        return self.list(request)

    @extend_schema(request=CloudInputSerializer, responses={201: CloudSerializer, 400: INVALID, 403: ERROR})
    def post(self, request):
        return _save_cloud(request, None, partial=False)


class CloudDetail(GenericAPIView):
    serializer_class = CloudSerializer
    queryset = Cloud.objects.none()  # reached through get_cloud_for_user only

    def get_object(self):  # what OPTIONS describes: the cloud as the user would change it
        return _writable_cloud(self.request, self.kwargs["cloud_id"])

    @extend_schema(responses={200: CloudSerializer, 404: ERROR})
    def get(self, request, cloud_id: int):
        return _cloud_response(request, get_cloud_for_user(request, cloud_id))

    @extend_schema(request=CloudInputSerializer, responses={200: CloudSerializer, 400: INVALID, 404: ERROR})
    def put(self, request, cloud_id: int):
        return _save_cloud(request, _writable_cloud(request, cloud_id), partial=False)

    @extend_schema(request=CloudInputSerializer, responses={200: CloudSerializer, 400: INVALID, 404: ERROR})
    def patch(self, request, cloud_id: int):
        return _save_cloud(request, _writable_cloud(request, cloud_id), partial=True)

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR, 409: ERROR})
    def delete(self, request, cloud_id: int):
        cloud = _writable_cloud(request, cloud_id)
        try:
            cloud.delete()
        except ProtectedError as exc:
            users = ", ".join(sorted({str(o) for o in exc.protected_objects})[:5])
            return Response(
                {"detail": f"The cloud is still used by {users}: remove it from them first."},
                status=status.HTTP_409_CONFLICT,
            )
        record.cloud_deleted(request, cloud_id, cloud)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _writable_cloud(request, cloud_id: int) -> Cloud:
    """A cloud the user may change: a stranger's is a 404, a site-wide one a 403 to non-staff."""
    cloud = get_cloud_for_user(request, cloud_id)
    if not cloud.can_edit(request.user):
        raise PermissionDenied("Only staff change site-wide clouds.")
    return cloud


class CloudCheck(GenericAPIView):
    serializer_class = CheckSerializer
    queryset = Cloud.objects.none()

    @extend_schema(responses={200: CheckSerializer, 404: ERROR})
    def get(self, request, cloud_id: int):
        """The last connection test's state and message."""
        return Response(_check(get_cloud_for_user(request, cloud_id)))

    @extend_schema(
        request=None, responses={202: CheckSerializer, 403: ERROR, 404: ERROR, 503: CheckSerializer}
    )
    def post(self, request, cloud_id: int):
        """Queue a connection test on the cloud's queue; poll GET for its outcome."""
        cloud = _writable_cloud(request, cloud_id)
        try:
            start_check(cloud)
        except OperationalError:
            return Response(_check(cloud), status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(_check(cloud), status=status.HTTP_202_ACCEPTED)


def _check(cloud: Cloud) -> dict:
    return {"state": cloud.check_state, "message": cloud.check_message, "checked_at": cloud.checked_at}


class OfferingSerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceOffering
        fields = ["id", "name", "vcpus", "ram_mb", "disk_gb", "price_per_hour", "description"]


class OfferingList(ListAPIView):
    serializer_class = OfferingSerializer
    queryset = ServiceOffering.objects.filter(active=True)

    def get(self, request):
        """The active service offerings ("small", "large", ...) roles may name."""
        return self.list(request)


class ImageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Image
        fields = ["id", "name", "cloud", "provider_id", "format"]
        read_only_fields = ["id"]
        # The form checks a name's uniqueness on its cloud, once the cloud is known to be the user's.
        validators = []


class ImageList(ListAPIView):
    serializer_class = ImageSerializer

    def get_queryset(self):
        clouds = Cloud.objects.usable_by(self.request.user)
        images = Image.objects.filter(cloud__in=clouds).order_by("cloud_id", "name", "pk")
        cloud = self.request.query_params.get("cloud", "")
        return images.filter(cloud_id=int(cloud)) if is_id(cloud) else images

    @extend_schema(parameters=[OpenApiParameter("cloud", int, description="Only this cloud's images.")])
    def get(self, request):
        """The images of your clouds and of the site-wide ones."""
        if not is_id(request.query_params.get("cloud", "0")):
            return invalid("cloud must be a cloud id.")
        return self.list(request)

    @extend_schema(responses={201: ImageSerializer, 400: INVALID, 403: ERROR, 404: ERROR})
    def post(self, request):
        """Add an image to one of your clouds (staff: to a site-wide one)."""
        body = ImageSerializer(data=request.data)
        cloud_id = request.data.get("cloud") if isinstance(request.data, dict) else None
        if not isinstance(cloud_id, int) or isinstance(cloud_id, bool) or not is_id(str(cloud_id)):
            return invalid("The image is not valid.", ["cloud: send the id of one of your clouds."])
        cloud = _writable_cloud(request, cloud_id)
        if not body.is_valid():
            return invalid("The image is not valid.", error_messages(body.errors))
        values = body.validated_data
        fmt = values.get("format", Image._meta.get_field("format").default)
        form = ImageForm(
            {"name": values["name"], "provider_id": values["provider_id"], "format": fmt}, cloud=cloud
        )
        if not form.is_valid():
            return invalid("The image is not valid.", error_messages(form.errors))
        return Response(ImageSerializer(form.save()).data, status=status.HTTP_201_CREATED)


class ImageDetail(GenericAPIView):
    serializer_class = ImageSerializer
    queryset = Image.objects.none()

    def _image(self, request, image_id: int, *, write=False) -> Image:
        image = get_object_or_404(Image, pk=image_id)
        cloud = (
            _writable_cloud(request, image.cloud_id) if write else get_cloud_for_user(request, image.cloud_id)
        )
        image.cloud = cloud
        return image

    @extend_schema(responses={200: ImageSerializer, 404: ERROR})
    def get(self, request, image_id: int):
        return Response(ImageSerializer(self._image(request, image_id)).data)

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR, 409: ERROR})
    def delete(self, request, image_id: int):
        image = self._image(request, image_id, write=True)
        try:
            image.delete()
        except ProtectedError:
            return Response(
                {"detail": "The image is still used by a cluster definition."},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(status=status.HTTP_204_NO_CONTENT)
