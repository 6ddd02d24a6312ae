"""The marketplace pages (docs/marketplace.md): browse and search public profiles and cluster definitions,
a profile's public page with its redacted preview, stars and forks.

Browsing is open to everyone, logged in or not; starring and forking need an account. Every view
reaches a profile through `get_public_profile`: a private profile is a 404 here, even to its owner,
so the marketplace never shows what its owner has not published.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from contexts import marketplace
from contexts.access import get_public_profile
from contexts.models import Profile, Star
from contexts.preview import preview_form, render_outputs
from contexts.profiles import shown_document


def browse(request, kind, queryset_for, sorts, default_sort):
    """A marketplace list: profiles here, cluster definitions from clusters.marketplace."""
    text = request.GET.get("q", "").strip()
    tag = request.GET.get("tag", "").strip()
    sort = request.GET.get("sort") if request.GET.get("sort") in sorts else default_sort
    entries = queryset_for(text=text, tag=tag, sort=sort)
    page = Paginator(entries, marketplace.PAGE_SIZE).get_page(request.GET.get("page"))
    ctx = {
        "kind": kind,
        "page": page,
        "q": text,
        "tag": tag,
        "sort": sort,
        "sorts": list(sorts),
        "tags": marketplace.popular_tags(),
        # the search and filter, kept by the sort and page links
        "query": urlencode({k: v for k, v in (("q", text), ("tag", tag)) if v}),
    }
    return render(request, "contexts/marketplace.html", ctx)


def profile_browse(request):
    return browse(request, "profiles", marketplace.public_profiles, marketplace.PROFILE_SORTS, "stars")


def profile_page(request, profile_id):
    profile = get_public_profile(profile_id)
    counted = marketplace.with_counts(Profile.objects.filter(pk=profile.pk))
    counts = counted.values("star_count", "fork_count").get()
    form = preview_form(request.GET, shown_document(profile.latest))
    starred = (
        request.user.is_authenticated and Star.objects.filter(user=request.user, profile=profile).exists()
    )
    ctx = {
        "profile": profile,
        "description": marketplace.description_html(profile.description),
        "tags": profile.tags.all(),
        "starred": starred,
        "form": form,
        **counts,
    }
    if form.is_valid():
        ctx["outputs"] = render_outputs(profile.latest, form, download_redacted=True)
    return render(request, "contexts/marketplace_profile.html", ctx)


@login_required
@require_POST
def profile_star(request, profile_id):
    marketplace.star(request.user, get_public_profile(profile_id))
    return redirect("marketplace:profile", profile_id)


@login_required
@require_POST
def profile_unstar(request, profile_id):
    marketplace.unstar(request.user, get_public_profile(profile_id))
    return redirect("marketplace:profile", profile_id)


@login_required
@require_POST
def profile_fork(request, profile_id):
    source = get_public_profile(profile_id)
    copy = marketplace.fork(source, request.user)
    messages.success(
        request, f"Forked {source.name} into your private profile {copy.name}. Its secrets were not copied."
    )
    return redirect(copy)
