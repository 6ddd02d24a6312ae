"""Who may reach which profile, for the contexts app's pages and its API alike (docs/security.md):
a private profile is a 404 to strangers; the marketplace reaches only public ones, even for their
owner."""

from django.http import Http404
from django.shortcuts import get_object_or_404

from contexts.models import Profile


def get_profile_for_user(request, profile_id, *, write=False) -> Profile:
    profile = get_object_or_404(Profile.objects.select_related("owner", "latest"), pk=profile_id)
    if profile.owner_id == request.user.id or (profile.is_public and not write):
        return profile
    raise Http404("No such profile.")


def get_public_profile(profile_id) -> Profile:
    related = ("owner", "latest", "forked_from__profile__owner")
    profile = get_object_or_404(Profile.objects.select_related(*related), pk=profile_id)
    if not profile.is_public:
        raise Http404("No such profile.")
    return profile
