"""REST API for cluster definitions and clusters under /api/v1/ (docs/api.md).

The same rules as the pages: definitions are checked by `clusters.definitions.definition_problems`,
launches, scaling, retries and termination go through `clusters.launcher`, and every object is
reached through the pages' `get_<obj>_for_user` helpers (a stranger's object is a 404).

Errors are JSON `{"detail": ...}` with 4xx codes; a refused definition or launch adds
`"errors": [...]`, one message per problem.
"""

from __future__ import annotations

from collections import Counter

from django.db import IntegrityError, transaction
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from audit import record
from clusters import launcher
from clusters.access import get_cluster_for_user, get_definition_for_user
from clusters.api_costs import budget_field, usage_json
from clusters.definitions import (
    ELASTIC_FIELDS,
    definition_problems,
    definition_roles,
    role_data,
    save_roles,
    usable_images,
    usable_offerings,
    usable_profiles,
)
from clusters.models import (
    Cloud,
    Cluster,
    ClusterDefinition,
    ClusterState,
    Role,
)
from clusters.models.definitions import role_name_validator
from clusters.models.launches import summary
from clusters.queues import unserved_queues
from contexts.models import Visibility
from portal.api import error_messages, invalid

MAX_COUNT = 10000
ID = {"min_value": 1, "max_value": 2**62}  # a larger number would overflow the database's integers


def refused_input(serializer) -> Response:
    return invalid("the request is not valid", error_messages(serializer.errors))


# ---------------------------------------------------------------------------- definitions


LIST_OF_OBJECTS = {200: {"type": "array", "items": {"type": "object", "additionalProperties": {}}}}


# Where the database's integers end: the rules (definition_problems) say what is sensible below it.
SECONDS = {"min_value": 0, "max_value": 2**31 - 1}


class ElasticPolicySerializer(serializers.Serializer):
    """An elastic role's policy (docs/elastic.md); a key left out takes its usual value."""

    jobs_per_worker = serializers.IntegerField(**SECONDS, required=False)
    idle_seconds = serializers.IntegerField(**SECONDS, required=False)
    cooldown_seconds = serializers.IntegerField(**SECONDS, required=False)
    drain_deadline_seconds = serializers.IntegerField(**SECONDS, required=False)


class RoleSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=32, validators=[role_name_validator])
    profile = serializers.IntegerField(**ID)
    revision = serializers.IntegerField(**ID, required=False, allow_null=True)
    offering = serializers.CharField(max_length=100, required=False, allow_blank=True, allow_null=True)
    size = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    image = serializers.IntegerField(**ID)
    count = serializers.IntegerField(min_value=0, max_value=MAX_COUNT, default=1)
    min = serializers.IntegerField(min_value=0, max_value=MAX_COUNT, default=0)
    max = serializers.IntegerField(min_value=0, max_value=MAX_COUNT, required=False, allow_null=True)
    depends_on = serializers.ListField(
        child=serializers.CharField(max_length=32), required=False, default=list
    )
    elastic = ElasticPolicySerializer(
        required=False,
        allow_null=True,
        default=None,
        help_text="null for a fixed role (count instances); else its size follows the queue from min to max",
    )
    spot = serializers.BooleanField(required=False, default=False)

    def validate(self, data):
        """The role as `definition_problems` reads it: Role field names, model instances."""
        user = self.context["user"]
        # A PATCH validates partially, nested roles included; a role given is still a whole role.
        missing = [name for name in ("name", "profile", "image") if name not in data]
        if missing:
            raise serializers.ValidationError(dict.fromkeys(missing, "This field is required."))
        profile = usable_profiles(user).filter(pk=data["profile"]).first()
        if profile is None:
            raise serializers.ValidationError({"profile": f"no profile {data['profile']} you can use"})
        revision = None
        if data.get("revision"):
            revision = profile.revisions.filter(number=data["revision"]).first()
            if revision is None:
                raise serializers.ValidationError(
                    {"revision": f"{profile.name} has no revision {data['revision']}"}
                )
        offering = None
        if data.get("offering"):
            definition = self.context.get("definition")
            stored = (
                definition.roles.filter(name=data["name"]).first() if definition and definition.pk else None
            )
            offering = (
                usable_offerings(stored.offering if stored else None).filter(name=data["offering"]).first()
            )
            if offering is None:
                raise serializers.ValidationError(
                    {"offering": f"no active offering named {data['offering']!r}"}
                )
        image = usable_images(user).filter(pk=data["image"]).first()
        if image is None:
            raise serializers.ValidationError({"image": f"no image {data['image']} on a cloud you can use"})
        return {
            "name": data["name"],
            "profile": profile,
            "pinned_revision": revision,
            "offering": offering,
            "size": data.get("size") or "",
            "image": image,
            "count": data.get("count", 1),
            "min_count": data.get("min", 0),
            "max_count": data.get("max"),
            "depends_on": list(dict.fromkeys(data.get("depends_on") or [])),
            "spot": data.get("spot", False),
            **elastic_fields(data.get("elastic")),
        }


def elastic_fields(policy: dict | None) -> dict:
    """The Role fields of an `elastic` policy given to the API: null is a fixed role, and what a
    policy leaves out takes the field's usual value, as in the editor."""
    values = {name: Role._meta.get_field(name).default for name in ELASTIC_FIELDS}
    values.update(policy or {})
    return {"elastic": policy is not None, **values}


class DefinitionSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.PRIVATE)
    roles = RoleSerializer(many=True, allow_empty=False)


def definition_json(definition: ClusterDefinition, user) -> dict:
    return {
        "id": definition.pk,
        "name": definition.name,
        "description": definition.description,
        "visibility": definition.visibility,
        "owner": definition.owner.username,
        "is_owner": definition.owner_id == user.pk,
        "roles": [role_json(role) for role in definition_roles(definition)],
        "created": definition.created,
        "updated": definition.updated,
    }


def role_json(role: Role) -> dict:
    return {
        "name": role.name,
        "profile": role.profile_id,
        "revision": role.pinned_revision.number if role.pinned_revision else None,
        "offering": role.offering.name if role.offering else None,
        "size": role.size,
        "image": role.image_id,
        "count": role.count,
        "min": role.min_count,
        "max": role.max_count,
        "depends_on": list(role.depends_on),
        "elastic": launcher.elastic_policy(role),
        "spot": role.spot,
    }


class DefinitionList(GenericAPIView):
    serializer_class = DefinitionSerializer
    pagination_class = None  # the whole list, as a JSON array

    def get_queryset(self):
        mine = Q(owner=self.request.user)
        public = self.request.query_params.get("show") == "public"
        shown = mine | Q(visibility=Visibility.PUBLIC) if public else mine
        return ClusterDefinition.objects.filter(shown).select_related("owner").order_by("-updated", "pk")

    @extend_schema(operation_id="cluster_definitions_list", responses=LIST_OF_OBJECTS)
    def get(self, request):
        return Response([definition_json(d, request.user) for d in self.get_queryset()])

    @extend_schema(request=DefinitionSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        return _save_definition(request, ClusterDefinition(owner=request.user), partial=False)


@extend_schema(request=DefinitionSerializer, responses=OpenApiTypes.OBJECT)
class DefinitionDetail(GenericAPIView):
    serializer_class = DefinitionSerializer
    queryset = ClusterDefinition.objects.none()  # reached through get_definition_for_user only

    def get_object(self):  # what OPTIONS describes: the definition as its owner would change it
        return get_definition_for_user(self.request, self.kwargs["definition_id"], write=True)

    def get(self, request, definition_id: int):
        return Response(definition_json(get_definition_for_user(request, definition_id), request.user))

    def put(self, request, definition_id: int):
        return _save_definition(request, self.get_object(), partial=False)

    def patch(self, request, definition_id: int):
        return _save_definition(request, self.get_object(), partial=True)

    def delete(self, request, definition_id: int):
        self.get_object().delete()  # its launched clusters stay, no longer linked to it
        return Response(status=status.HTTP_204_NO_CONTENT)


def _save_definition(request, definition: ClusterDefinition, *, partial: bool) -> Response:
    context = {"user": request.user, "definition": definition}
    serializer = DefinitionSerializer(data=request.data, partial=partial, context=context)
    if not serializer.is_valid():
        return refused_input(serializer)
    data = serializer.validated_data
    for field in ("name", "description", "visibility"):
        if field in data:
            setattr(definition, field, data[field])
    taken = ClusterDefinition.objects.filter(owner=definition.owner, name=definition.name)
    if taken.exclude(pk=definition.pk).exists():
        return invalid(
            "the request is not valid", [f"name: you already have a definition named {definition.name!r}"]
        )
    roles = data.get("roles")
    problems = definition_problems(
        definition, roles if roles is not None else [role_data(r) for r in definition_roles(definition)]
    )
    if problems:
        return invalid("the definition cannot launch as it is", problems)
    created = definition.pk is None
    try:
        with transaction.atomic():
            definition.save()
            if roles is not None:
                save_roles(definition, roles)
    except IntegrityError:  # a name taken by a concurrent save since the checks ran
        return Response(
            {"detail": "the name was taken meanwhile by another save; try again"},
            status=status.HTTP_409_CONFLICT,
        )
    code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return Response(definition_json(definition, request.user), status=code)


# ---------------------------------------------------------------------------- clusters


class LaunchSerializer(serializers.Serializer):
    definition = serializers.IntegerField(**ID)
    name = serializers.RegexField(
        r"^[a-z][a-z0-9-]{0,39}$",
        max_length=40,
        error_messages={
            "invalid": "lower-case letters, digits and dashes, starting with a letter (at most 40)"
        },
    )
    cloud = serializers.IntegerField(**ID, required=False)
    placement = serializers.DictField(child=serializers.IntegerField(**ID), required=False)
    budget_per_day = budget_field()
    budget_total = budget_field()

    def validate(self, data):
        if "cloud" not in data and not data.get("placement"):
            raise serializers.ValidationError('name a "cloud" or a "placement" {role: cloud id}')
        return data


def instance_json(instance) -> dict:
    return {
        "role": instance.role,
        "index": instance.index,
        "name": instance.name,
        "state": instance.state,
        "cloud": instance.cloud_id,
        "node_id": instance.node_id,
        "public_ips": instance.public_ips,
        "private_ips": instance.private_ips,
        "error": instance.last_error,
        "checkin_status": instance.checkin_status,
        # An elastic role's worker, or one of a scale-down, being drained before it ends (docs/elastic.md).
        "draining": instance.is_draining,
        "end_reason": instance.end_reason,
    }


def cluster_json(cluster: Cluster, *, detail=True) -> dict:
    instances = list(cluster.instances.order_by("role", "index"))
    shown = summary(Counter(i.state for i in instances))
    found = {
        "id": cluster.pk,
        "name": cluster.name,
        "state": cluster.state,
        "definition": cluster.definition_id,
        "created": cluster.created,
        "updated": cluster.updated,
        # What `portalctl clusters launch --wait` shows: instances up of those wanted.
        "wanted": shown["wanted"],
        "up": shown["up"],
        "failed": shown["failed"],
    }
    if detail:
        found["roles"] = [
            {
                key: role.get(key)
                for key in (
                    "name",
                    "count",
                    "min",
                    "max",
                    "depends_on",
                    "cloud",
                    "offering",
                    "size_id",
                    "image",
                    "elastic",
                    "spot",
                )
            }
            for role in cluster.snapshot["roles"]
        ]
        found["instances"] = [instance_json(i) for i in instances]
        found["usage"] = usage_json(cluster, instances)
        found["events"] = [
            {"created": e.created, "level": e.level, "message": e.message} for e in cluster.events.all()[:30]
        ]
    return found


class ClusterList(GenericAPIView):
    serializer_class = LaunchSerializer
    pagination_class = None  # the whole list, as a JSON array

    def get_queryset(self):
        return Cluster.objects.filter(owner=self.request.user).prefetch_related("instances")

    @extend_schema(operation_id="clusters_list", responses=LIST_OF_OBJECTS)
    def get(self, request):
        return Response([cluster_json(c, detail=False) for c in self.get_queryset()])

    @extend_schema(request=LaunchSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        return _launch(request)


def _launch(request) -> Response:
    serializer = LaunchSerializer(data=request.data)
    if not serializer.is_valid():
        return refused_input(serializer)
    data = serializer.validated_data
    definition = get_definition_for_user(request, data["definition"])
    clouds = Cloud.objects.usable_by(request.user)
    wanted = {data.get("cloud"), *data.get("placement", {}).values()} - {None}
    found = clouds.in_bulk(wanted)
    unknown = sorted(wanted - set(found))
    if unknown:
        return invalid("the request is not valid", [f"no cloud {pk} you can use" for pk in unknown])
    role_names = list(definition.roles.values_list("name", flat=True))
    strangers = sorted(set(data.get("placement", {})) - set(role_names))
    if strangers:
        return invalid(
            "the request is not valid",
            [f"placement: {name!r} is not a role of {definition.name}" for name in strangers],
        )
    default = found.get(data.get("cloud"))
    placement = {name: found.get(data.get("placement", {}).get(name)) or default for name in role_names}
    placement = {name: cloud for name, cloud in placement.items() if cloud is not None}
    try:
        cluster = launcher.launch(
            definition,
            request.user,
            data["name"],
            placement,
            budget_per_day=data.get("budget_per_day"),
            budget_total=data.get("budget_total"),
        )
    except launcher.LaunchError as exc:
        return invalid("the cluster cannot launch", exc.messages)
    record.launch(request, cluster)
    answer = cluster_json(cluster)
    unserved = unserved_queues(placement.values())
    answer["warnings"] = [
        f"nobody serves the queue {q!r} now: instances wait until a worker or agent does" for q in unserved
    ]
    answer["notices"] = launcher.notices(definition, request.user, placement)
    return Response(answer, status=status.HTTP_201_CREATED)


class ClusterDetail(GenericAPIView):
    queryset = Cluster.objects.none()  # reached through get_cluster_for_user only

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def get(self, request, cluster_id: int):
        return Response(cluster_json(get_cluster_for_user(request, cluster_id)))


class ScaleSerializer(serializers.Serializer):
    role = serializers.CharField(max_length=32)
    count = serializers.IntegerField(min_value=0, max_value=MAX_COUNT)


class ClusterScale(GenericAPIView):
    serializer_class = ScaleSerializer
    queryset = Cluster.objects.none()

    @extend_schema(request=ScaleSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request, cluster_id: int):
        cluster = get_cluster_for_user(request, cluster_id)
        serializer = ScaleSerializer(data=request.data)
        if not serializer.is_valid():
            return refused_input(serializer)
        role, count = serializer.validated_data["role"], serializer.validated_data["count"]
        if role not in [r["name"] for r in cluster.snapshot["roles"]]:
            return invalid("the request is not valid", [f"role: {role!r} is not a role of this cluster"])
        try:
            launcher.scale(cluster, role, count)
        except launcher.LaunchError as exc:
            return invalid("the cluster cannot scale", exc.messages)
        record.scale(request, cluster, role, count)
        return Response(cluster_json(cluster))


class ClusterTerminate(GenericAPIView):
    serializer_class = serializers.Serializer  # no body
    queryset = Cluster.objects.none()

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request, cluster_id: int):
        cluster = get_cluster_for_user(request, cluster_id)
        if cluster.state != ClusterState.TERMINATED:
            launcher.terminate(cluster)
            record.terminate(request, cluster)
        return Response(cluster_json(cluster))


class RetrySerializer(serializers.Serializer):
    revision = serializers.ChoiceField(
        choices=["launched", "latest"],
        default="launched",
        help_text="latest: roles whose profile has a newer revision use it from now on",
    )


class ClusterRetry(GenericAPIView):
    """`{"revision": "latest"}` retries with the roles' latest profile revisions; the answer's
    `revisions` says which revision each role with failed instances uses."""

    serializer_class = RetrySerializer
    queryset = Cluster.objects.none()

    @extend_schema(request=RetrySerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request, cluster_id: int):
        cluster = get_cluster_for_user(request, cluster_id)
        serializer = RetrySerializer(data=request.data if isinstance(request.data, dict) else {})
        if not serializer.is_valid():
            return refused_input(serializer)
        latest = serializer.validated_data["revision"] == "latest"
        revisions = launcher.retry_revisions(cluster)
        try:
            retried = launcher.retry_failed(cluster, latest=latest)
        except launcher.LaunchError as exc:
            return invalid("the failed instances cannot be retried", exc.messages)
        if retried:
            record.retry(request, cluster, retried, latest=latest)
        cluster.refresh_from_db()
        used = [
            {
                "role": r["role"],
                "profile": r["profile"],
                "revision": r["latest"] if latest and r["latest"] else r["revision"],
            }
            for r in revisions
        ]
        return Response({**cluster_json(cluster), "retried": retried, "revisions": used})
