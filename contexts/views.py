"""Placeholder views, replaced by the profile pages."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def profile_list(request):
    return HttpResponse("profiles")


@login_required
def profile_create(request):
    return HttpResponse("new")


@login_required
def profile_detail(request, profile_id):
    return HttpResponse("detail")
