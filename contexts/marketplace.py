"""The marketplace (SPEC §4): public profiles and cluster definitions to search, sort, star and fork.

Counts (stars, forks, launches) are correlated subqueries rather than joins, so a page costs the
same few queries however popular its entries are, and two counts never multiply each other.
"""

from __future__ import annotations

import copy
import functools
import operator

import markdown
import nh3
from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, TextField, Value
from django.db.models.functions import Coalesce
from django.utils.safestring import SafeString, mark_safe

from clusters.models import Cluster, ClusterDefinition
from contexts import secrets
from contexts.models import Profile, Star, Tag, Visibility
from contexts.profiles import create_profile

PAGE_SIZE = 20

# sort name -> ordering; every ordering ends in a unique column so pages never overlap.
PROFILE_SORTS = {
    "stars": ("-star_count", "-created", "-pk"),
    "forks": ("-fork_count", "-created", "-pk"),
    "newest": ("-created", "-pk"),
}
DEFINITION_SORTS = {
    "launches": ("-launch_count", "-created", "-pk"),
    "newest": ("-created", "-pk"),
}


def _count(queryset: QuerySet, group_by: str) -> Coalesce:
    """The number of rows of `queryset` (already filtered on OuterRef) as an annotation."""
    counted = queryset.order_by().values(group_by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def with_counts(profiles: QuerySet) -> QuerySet:
    """Annotate `star_count` and `fork_count` (forks of any revision, private forks included)."""
    return profiles.annotate(
        star_count=_count(Star.objects.filter(profile=OuterRef("pk")), "profile"),
        fork_count=_count(
            Profile.objects.filter(forked_from__profile=OuterRef("pk")), "forked_from__profile"
        ),
    )


def _tag_names() -> Coalesce:
    """The tags of each profile as one space-separated string, for the full-text vector."""
    from django.contrib.postgres.aggregates import StringAgg

    names = (
        Tag.objects.filter(profiles=OuterRef("pk"))
        .order_by()
        .values("profiles")
        .annotate(names=StringAgg("name", " "))
        .values("names")
    )
    return Coalesce(Subquery(names), Value(""), output_field=TextField())


def search(queryset: QuerySet, text: str, fields: tuple[str, ...], *, tags: bool) -> QuerySet:
    """Rows of `queryset` matching every word of `text` in one of `fields` (or, with `tags`, a tag).

    PostgreSQL gets real full-text search (stemmed, websearch syntax); SQLite, the development
    database, a case-insensitive substring match of each word.
    """
    text = text.strip()
    if not text:
        return queryset
    model = queryset.model
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        parts = [*fields, _tag_names()] if tags else list(fields)
        matches = model.objects.annotate(document=SearchVector(*parts, config="english")).filter(
            document=SearchQuery(text, config="english", search_type="websearch")
        )
    else:
        lookups = [*fields, "tags__name"] if tags else list(fields)
        matches = model.objects.all()
        for word in text.split():
            matches = matches.filter(
                functools.reduce(operator.or_, (Q(**{f"{f}__icontains": word}) for f in lookups))
            )
    return queryset.filter(pk__in=matches.values("pk"))


def public_profiles(*, text: str = "", tag: str = "", sort: str = "stars") -> QuerySet:
    profiles = Profile.objects.filter(visibility=Visibility.PUBLIC)
    profiles = search(profiles, text, ("name", "description"), tags=True)
    if tag:
        profiles = profiles.filter(pk__in=Profile.objects.filter(tags__name=tag).values("pk"))
    profiles = with_counts(profiles).select_related("owner")
    return profiles.prefetch_related("tags").order_by(*PROFILE_SORTS.get(sort, PROFILE_SORTS["stars"]))


def public_definitions(*, text: str = "", tag: str = "", sort: str = "launches") -> QuerySet:
    """Public definitions; `tag` keeps those with a role whose profile carries the tag."""
    definitions = ClusterDefinition.objects.filter(visibility=Visibility.PUBLIC)
    definitions = search(definitions, text, ("name", "description"), tags=False)
    if tag:
        tagged = ClusterDefinition.objects.filter(roles__profile__tags__name=tag).values("pk")
        definitions = definitions.filter(pk__in=tagged)
    definitions = definitions.annotate(
        launch_count=_count(Cluster.objects.filter(definition=OuterRef("pk")), "definition")
    )
    order = DEFINITION_SORTS.get(sort, DEFINITION_SORTS["launches"])
    return definitions.select_related("owner").order_by(*order)


def popular_tags(limit: int = 30) -> QuerySet:
    """The tags of public profiles, most used first, for the filter links."""
    public = Q(profiles__visibility=Visibility.PUBLIC)
    return (
        Tag.objects.annotate(uses=Count("profiles", filter=public))
        .filter(uses__gt=0)
        .order_by("-uses", "name")[:limit]
    )


def star(user, profile: Profile) -> None:
    """Star `profile` for `user`; starring twice changes nothing."""
    # get_or_create also copes with a concurrent star (a double click): it re-reads on conflict.
    Star.objects.get_or_create(user=user, profile=profile)


def unstar(user, profile: Profile) -> None:
    Star.objects.filter(user=user, profile=profile).delete()


def without_secrets(document: dict) -> dict:
    """A copy of a (sealed or plain) document with every secret field removed."""
    copied = copy.deepcopy(document)
    for container, key, _name in list(secrets.secret_slots(copied)):
        del container[key]
    return copied


def fork(profile: Profile, user) -> Profile:
    """A private copy of `profile`'s latest revision for `user`, attributed to its source.

    The source's secrets are not copied, not even encrypted: they belong to its owner, and a
    fork sets its own.
    """
    source = profile.latest
    return create_profile(
        user,
        profile.name,
        without_secrets(source.document),
        description=profile.description,
        visibility=Visibility.PRIVATE,
        tags=[tag.name for tag in profile.tags.all()],
        forked_from=source,
        message=f"Forked from {profile.name} r{source.number} by {profile.owner.username}",
    )


def description_html(text: str) -> SafeString:
    """A README-like description: Markdown, with the HTML sanitised (no scripts, no handlers)."""
    html = markdown.markdown(text, extensions=["fenced_code", "tables", "sane_lists"])
    return mark_safe(nh3.clean(html))  # noqa: S308 - nh3 has just removed anything unsafe
