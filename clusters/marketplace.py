"""The cluster definitions' part of the marketplace (docs/marketplace.md): public definitions to
search and sort, on the marketplace's pages (contexts.views_marketplace) with the same search."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet

from clusters.models import Cluster, ClusterDefinition
from contexts.marketplace import count_of, search
from contexts.models import Visibility
from contexts.views_marketplace import browse

# sort name -> ordering; every ordering ends in a unique column so pages never overlap.
DEFINITION_SORTS = {
    "launches": ("-launch_count", "-created", "-pk"),
    "newest": ("-created", "-pk"),
}


def public_definitions(*, text: str = "", tag: str = "", sort: str = "launches") -> QuerySet:
    """Public definitions; `tag` keeps those with a role whose profile carries the tag."""
    definitions = ClusterDefinition.objects.filter(visibility=Visibility.PUBLIC)
    definitions = search(definitions, text, ("name", "description"), tags=False)
    if tag:
        tagged = ClusterDefinition.objects.filter(roles__profile__tags__name=tag).values("pk")
        definitions = definitions.filter(pk__in=tagged)
    definitions = definitions.annotate(
        launch_count=count_of(Cluster.objects.filter(definition=OuterRef("pk")), "definition")
    )
    order = DEFINITION_SORTS.get(sort, DEFINITION_SORTS["launches"])
    return definitions.select_related("owner").order_by(*order)


def definition_browse(request):
    return browse(request, "definitions", public_definitions, DEFINITION_SORTS, "launches")
