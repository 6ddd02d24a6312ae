"""The cluster definition pages (docs/launches.md): mine and the public ones, create and edit with the
roles, detail with the topology picture, delete.

Every view reaches a definition through `get_definition_for_user`: a private definition is a 404
to everyone but its owner, and only the owner changes one, public or not.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import Case, Prefetch, Sum, When
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe

from clusters import topology
from clusters.access import get_definition_for_user
from clusters.definitions import (
    definition_problems,
    definition_roles,
    elastic_words,
    role_data,
    role_shape,
)
from clusters.forms_definitions import DefinitionForm, role_formset
from clusters.models import ClusterDefinition, Role
from contexts.models import Visibility


@login_required
def definition_list(request):
    public = request.GET.get("show") == "public"
    if public:
        definitions = ClusterDefinition.objects.filter(visibility=Visibility.PUBLIC).exclude(
            owner=request.user
        )
    else:
        definitions = ClusterDefinition.objects.filter(owner=request.user)
    shown = ("definition_id", "name", "count", "position", "elastic", "min_count", "max_count")
    roles = Prefetch("roles", queryset=Role.objects.only(*shown))
    # Instances at launch: an elastic role starts at its minimum (clusters.launcher.launch_count).
    at_launch = Case(When(roles__elastic=True, then="roles__min_count"), default="roles__count")
    definitions = (
        definitions.select_related("owner").annotate(instance_count=Sum(at_launch)).order_by("-updated", "pk")
    )
    page = Paginator(definitions.prefetch_related(roles), 25).get_page(request.GET.get("page"))
    return render(request, "clusters/definition_list.html", {"page": page, "public": public})


def _edit(request, definition):
    """The create and edit pages: the definition's fields and its roles, saved together."""
    data = request.POST if request.method == "POST" else None
    stored_name = definition.name  # the form changes the instance before it is saved, or not
    form = DefinitionForm(data, instance=definition)
    roles = role_formset(data, definition=definition, user=request.user)
    if data is not None and all([form.is_valid(), roles.is_valid()]):  # both, to show every error
        created = definition.pk is None
        try:
            with transaction.atomic():
                form.save()
                roles.save()
        except IntegrityError:  # a name taken by a concurrent save since the checks ran
            if created:
                definition.pk = None
            form.add_error(
                None, "A name was taken meanwhile by another save; check the names and save again."
            )
        else:
            messages.success(
                request, f"{'Created' if created else 'Saved'} the definition {definition.name}."
            )
            return redirect(definition)
    ctx = {"form": form, "roles": roles, "definition": definition, "stored_name": stored_name}
    return render(request, "clusters/definition_form.html", ctx)


@login_required
def definition_create(request):
    return _edit(request, ClusterDefinition(owner=request.user))


@login_required
def definition_edit(request, definition_id):
    return _edit(request, get_definition_for_user(request, definition_id, write=True))


@login_required
def definition_detail(request, definition_id):
    definition = get_definition_for_user(request, definition_id)
    roles = definition_roles(definition)
    data = [role_data(role) for role in roles]
    ctx = {
        "definition": definition,
        "roles": [(role, elastic_words(role) if role.elastic else "") for role in roles],
        "is_owner": definition.owner_id == request.user.id,
        "problems": definition_problems(definition, data),
        # svg() escapes every name and label it draws.
        "picture": mark_safe(topology.svg([role_shape(d) for d in data])),  # noqa: S308
    }
    return render(request, "clusters/definition_detail.html", ctx)


@login_required
def definition_delete(request, definition_id):
    definition = get_definition_for_user(request, definition_id, write=True)
    clusters = definition.clusters.count()
    if request.method == "POST":
        definition.delete()  # its launched clusters stay, no longer linked to it
        messages.success(request, f"Deleted the definition {definition.name}.")
        return redirect("clusters:definition_list")
    return render(
        request, "clusters/definition_delete.html", {"definition": definition, "clusters": clusters}
    )
