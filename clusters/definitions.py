"""Cluster definitions (docs/launches.md): what is wrong with one, and the shape its picture is drawn from.

One set of rules for the editor, the API and the launcher. A role is checked as a dict with the
Role model's field names and model instances as values — what a form's or a serializer's cleaned
data holds — so a definition can be checked before anything is saved.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q, QuerySet

from clusters import preflight
from clusters.models import Cloud, ClusterDefinition, Image, Role, ServiceOffering
from clusters.topology import RoleShape, problems
from contexts.models import Profile, Visibility
from contexts.profiles import shown_document
from contexts.templating import referenced_roles, templated_roles

ROLE_FIELDS = (
    "name",
    "profile",
    "pinned_revision",
    "offering",
    "size",
    "image",
    "count",
    "min_count",
    "max_count",
    "depends_on",
    "elastic",
    "jobs_per_worker",
    "idle_seconds",
    "cooldown_seconds",
    "drain_deadline_seconds",
    "spot",
)
ELASTIC_FIELDS = ("jobs_per_worker", "idle_seconds", "cooldown_seconds", "drain_deadline_seconds")

# An elastic role's ceiling: one decision may launch this many instances at once, so a typo in
# the maximum must not be able to order a data centre.
MAX_ELASTIC_COUNT = 1000
# The longest idle time, cool-down or drain deadline: a month, well past any batch job's run.
MAX_ELASTIC_SECONDS = 30 * 24 * 3600
DURATIONS = {
    "idle_seconds": "the idle time before a drain",
    "cooldown_seconds": "the cool-down",
    "drain_deadline_seconds": "the drain deadline",
}


# What a role may use, for the editor's choices and the API's checks alike.


def usable_profiles(user) -> QuerySet:
    """The user's own profiles and everyone's public ones."""
    return Profile.objects.filter(Q(owner=user) | Q(visibility=Visibility.PUBLIC))


def usable_offerings(kept: ServiceOffering | None = None) -> QuerySet:
    """Active offerings; a role keeps the one it has (`kept`) even after it was made inactive."""
    return ServiceOffering.objects.filter(Q(active=True) | (Q(pk=kept.pk) if kept else Q(pk__in=[])))


def usable_images(user) -> QuerySet:
    """The images of the clouds the user may launch on."""
    return Image.objects.filter(cloud__in=Cloud.objects.usable_by(user))


def definition_roles(definition: ClusterDefinition) -> list[Role]:
    """The definition's roles with everything the checks and the pages read, in a single query."""
    related = ("profile__owner", "profile__latest", "pinned_revision", "offering", "image__cloud")
    return list(definition.roles.select_related(*related))


def role_data(role: Role) -> dict:
    return {name: getattr(role, name) for name in ROLE_FIELDS}


@transaction.atomic
def save_roles(
    definition: ClusterDefinition, roles: list[dict], same: list[Role | None] | None = None
) -> list[Role]:
    """Make the definition's roles exactly `roles` (values of ROLE_FIELDS, checked by
    definition_problems), in this order; the others are deleted. A role keeps its id when it is
    the same role: `same[i]` when the caller knows it (the page's form follows a renamed role),
    else the stored role of the same name (the API)."""
    stored = {role.pk: role for role in definition.roles.all()}
    by_name = {role.name: role for role in stored.values()}
    if same is None:
        same = [by_name.get(data["name"]) for data in roles]
    kept = [role if role is not None and role.pk in stored else None for role in same]
    definition.roles.exclude(pk__in=[role.pk for role in kept if role]).delete()
    # Free the stored names first, so that two roles may swap names without tripping the unique
    # (definition, name) constraint halfway.
    for role in kept:
        if role:
            Role.objects.filter(pk=role.pk).update(name=f"~{role.pk}")
    saved = []
    for position, (role, data) in enumerate(zip(kept, roles, strict=True)):
        role = role or Role()
        for name in ROLE_FIELDS:
            setattr(role, name, data[name])
        role.definition, role.position = definition, position
        role.save()
        saved.append(role)
    return saved


def role_revision(data: dict):
    """The revision a role launches: its pinned one, else its profile's latest."""
    profile = data.get("profile")
    return data.get("pinned_revision") or (profile.latest if profile else None)


def launch_count(data: dict) -> int:
    """How many instances a launch makes of the role, as `clusters.launcher.launch_count` says for
    a stored one: an elastic role starts at its minimum."""
    return (data.get("min_count") if data.get("elastic") else data.get("count")) or 0


def role_shape(data: dict) -> RoleShape:
    offering, size = data.get("offering"), data.get("size") or ""
    revision = role_revision(data)
    return RoleShape(
        name=data.get("name") or "",
        count=launch_count(data),
        most=data.get("max_count") if data.get("elastic") else None,
        depends_on=list(data.get("depends_on") or []),
        label=offering.name if offering else size,
        # The redacted document names the same roles as the real one: no need to decrypt.
        needs_roles=referenced_roles(shown_document(revision)) if revision else set(),
        uses_addresses=templated_roles(shown_document(revision)) if revision else set(),
    )


def definition_problems(definition: ClusterDefinition, roles_data: list[dict] | None = None) -> list[str]:
    """Everything that keeps the definition from launching, as messages; [] when it can.

    `roles_data` checks roles about to be saved instead of the stored ones; `definition.owner` is
    the user whose profiles and clouds the roles may use.
    """
    if roles_data is None:
        roles_data = [role_data(role) for role in definition_roles(definition)]
    found = problems([role_shape(data) for data in roles_data])
    needed = {other for data in roles_data for other in data.get("depends_on") or []}
    for data in roles_data:
        found.extend(_role_problems(data, definition.owner, is_needed=data.get("name") in needed))
    found.extend(_elastic_problems(roles_data))
    if not found:  # a definition that holds together: would its user-data launch?
        found.extend(_user_data_problems(roles_data, definition.owner))
    return found


def _user_data_problems(roles_data: list[dict], owner) -> list[str]:
    """Each role's user-data, made as for its last instance on its image's cloud (where it launches
    unless the launch places it elsewhere, which the launch checks again)."""
    counts = {data["name"]: launch_count(data) for data in roles_data}
    found = []
    for data in roles_data:
        needs = {other: counts[other] for other in data.get("depends_on") or []}
        image, revision = data["image"], role_revision(data)
        if revision.profile_id == data["profile"].pk:
            revision.profile = data["profile"]  # already loaded, with its owner
        problem = preflight.render_problem(
            revision,
            owner,
            role_name=data["name"],
            count=counts[data["name"]],
            needs=needs,
            image=image,
            cloud=image.cloud,
        )
        if problem:
            found.append(f"role {data['name']!r}: {problem}")
    return found


def _role_problems(data: dict, owner, *, is_needed: bool) -> list[str]:
    name = data.get("name") or "?"
    profile, revision, image = data.get("profile"), data.get("pinned_revision"), data.get("image")
    count, low, high = data.get("count") or 0, data.get("min_count") or 0, data.get("max_count")
    found = []
    if not data.get("offering") and not data.get("size"):
        found.append(f"role {name!r}: choose an offering or a provider size")
    if high is not None and low > high:
        found.append(f"role {name!r}: the minimum count {low} is above the maximum {high}")
    elif not data.get("elastic") and (count < low or (high is not None and count > high)):
        found.append(
            f"role {name!r}: the count {count} is outside {low} to {high if high is not None else '∞'}"
        )
    if is_needed and launch_count(data) < 1:
        found.append(
            f"role {name!r}: other roles need its address, so its minimum must be at least 1"
            if data.get("elastic")
            else f"role {name!r}: other roles need its address, so it needs at least one instance"
        )
    if profile is None:
        found.append(f"role {name!r}: choose a profile")
    elif profile.owner_id != owner.pk and not profile.is_public:
        found.append(f"role {name!r}: the profile is neither yours nor public")
    elif revision is not None and revision.profile_id != profile.pk:
        found.append(f"role {name!r}: revision {revision.number} is not a revision of {profile.name}")
    elif role_revision(data) is None:
        found.append(f"role {name!r}: the profile {profile.name} has no revision yet")
    if image is None:
        found.append(f"role {name!r}: choose an image")
    elif image.cloud.owner_id not in (None, owner.pk):
        found.append(f"role {name!r}: the image {image.name} is on a cloud you cannot use")
    return found


def _elastic_problems(roles_data: list[dict]) -> list[str]:
    """An elastic role's policy (docs/elastic.md), and the one elastic role a definition may have:
    the head reports one queue, and two roles growing from it would each take every idle job."""
    found = []
    elastic = [data for data in roles_data if data.get("elastic")]
    for data in elastic[1:]:
        found.append(
            f"role {data.get('name') or '?'!r}: only one role may be elastic, and {elastic[0].get('name')!r} "
            "already is: the head's queue feeds one elastic role"
        )
    for data in elastic:
        name, high = data.get("name") or "?", data.get("max_count")
        if high is None:
            found.append(f"role {name!r}: an elastic role needs a maximum count")
        elif high > MAX_ELASTIC_COUNT:
            found.append(
                f"role {name!r}: an elastic role grows to at most {MAX_ELASTIC_COUNT} instances, not {high}"
            )
        elif high < 1:
            found.append(f"role {name!r}: an elastic role needs a maximum of at least 1")
        if (data.get("jobs_per_worker") or 0) < 1:
            found.append(f"role {name!r}: jobs per worker must be at least 1")
        if (data.get("idle_seconds") or 0) < 1:
            found.append(f"role {name!r}: the idle time before a drain must be at least 1 second")
        if (data.get("drain_deadline_seconds") or 0) < 1:
            found.append(f"role {name!r}: the drain deadline must be at least 1 second")
        for field, what in DURATIONS.items():
            if (data.get(field) or 0) > MAX_ELASTIC_SECONDS:
                found.append(f"role {name!r}: {what} must be at most 30 days, not {data[field]} seconds")
    return found


# What the pages say of a role's size.


def duration_words(seconds: int) -> str:
    """600 → "10 min", 90 → "90 s", 7200 → "2 h": a role's times as people say them."""
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds and seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def elastic_words(role: Role) -> str:
    """An elastic role's policy in a sentence: "elastic 0–20 workers, 4 jobs per worker, drain
    after 10 min idle, 2 min between changes, terminated 1 h into a drain"."""
    jobs = role.jobs_per_worker
    return (
        f"elastic {role.min_count}–{role.max_count} workers, {jobs} job{'s' if jobs != 1 else ''} per "
        f"worker, drain after {duration_words(role.idle_seconds)} idle, "
        f"{duration_words(role.cooldown_seconds)} between changes, "
        f"terminated {duration_words(role.drain_deadline_seconds)} into a drain"
    )
