"""The marketplace (docs/marketplace.md): public profiles to search, sort, star and fork, and the search
and counts the cluster definitions' part (clusters.marketplace) uses too.

Counts (stars, forks, launches) are correlated subqueries rather than joins, so a page costs the
same few queries however popular its entries are, and two counts never multiply each other.
"""

from __future__ import annotations

import copy
import functools
import operator
import re

import markdown
import nh3
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Count, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, TextField, Value
from django.db.models.functions import Coalesce
from django.utils.safestring import SafeString, mark_safe

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


def count_of(queryset: QuerySet, group_by: str) -> Coalesce:
    """The number of rows of `queryset` (already filtered on OuterRef) as an annotation."""
    counted = queryset.order_by().values(group_by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def with_counts(profiles: QuerySet) -> QuerySet:
    """Annotate `star_count` and `fork_count` (forks of any revision, private forks included)."""
    return profiles.annotate(
        star_count=count_of(Star.objects.filter(profile=OuterRef("pk")), "profile"),
        fork_count=count_of(
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
        return queryset.filter(_postgres_matches(model, text, fields, tags=tags))
    lookups = [*fields, "tags__name"] if tags else list(fields)
    matches = model.objects.all()
    for word in text.split():
        matches = matches.filter(
            functools.reduce(operator.or_, (Q(**{f"{f}__icontains": word}) for f in lookups))
        )
    return queryset.filter(pk__in=matches.values("pk"))


def _postgres_matches(model, text: str, fields: tuple[str, ...], *, tags: bool) -> Q:
    """Rows whose words, and tags with `tags`, match the websearch query `text`.

    Computing every row's words for each search took half a second at 10,000 profiles, so the
    words of the `fields` come from an index (contexts migration 0004, built on this very
    expression). Tags live in another table, out of the index's reach; but a tag without any of
    the query's words cannot change whether a row matches (not even under NOT, nor in a phrase:
    its words come last). So the few rows with a tag that shares a word with the query are
    matched with their tags, every other row by its own words from the index: exactly what
    matching every row with its tags finds.
    """
    query = SearchQuery(text, config="english", search_type="websearch")
    by_words = model.objects.annotate(words=SearchVector(*fields, config="english")).filter(words=query)
    if not tags or not (query_words := _query_words(text)):
        return Q(pk__in=by_words.values("pk"))
    tag_words = Func(
        SearchVector("name", config="english"),
        function="tsvector_to_array",
        output_field=ArrayField(TextField()),
    )
    sharing = Tag.objects.alias(words=tag_words).filter(words__overlap=query_words)
    tagged = model.objects.filter(tags__in=sharing)
    all_words = SearchVector(*fields, _tag_names(), config="english")
    with_tags = tagged.annotate(words=all_words).filter(words=query)
    by_own_words = Q(pk__in=by_words.values("pk")) & ~Q(pk__in=tagged.values("pk"))
    return by_own_words | Q(pk__in=with_tags.values("pk"))


# A lexeme in PostgreSQL's text form of a query: quoted, quotes doubled, backslashes escaped.
_LEXEME = re.compile(r"'((?:[^'\\]|''|\\.)*)'")


def _query_words(text: str) -> list[str]:
    """The words (stemmed lexemes) of the websearch query `text`, as PostgreSQL parses it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT websearch_to_tsquery('english', %s)::text", [text])
        parsed = cursor.fetchone()[0]
    return [re.sub(r"''|\\(.)", lambda m: m.group(1) or "'", word) for word in _LEXEME.findall(parsed)]


def public_profiles(*, text: str = "", tag: str = "", sort: str = "stars") -> QuerySet:
    profiles = Profile.objects.filter(visibility=Visibility.PUBLIC)
    profiles = search(profiles, text, ("name", "description"), tags=True)
    if tag:
        profiles = profiles.filter(pk__in=Profile.objects.filter(tags__name=tag).values("pk"))
    profiles = with_counts(profiles).select_related("owner")
    return profiles.prefetch_related("tags").order_by(*PROFILE_SORTS.get(sort, PROFILE_SORTS["stars"]))


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
