"""REST API for profiles under /api/v1/ (docs/api.md)."""

from django.urls import path

import portal.converters  # noqa: F401 - registers <id:...>
from contexts import api

urlpatterns = [
    path("profiles/", api.ProfileList.as_view(), name="api_profile_list"),
    path("profiles/<id:profile_id>/", api.ProfileDetail.as_view(), name="api_profile_detail"),
    path("profiles/<id:profile_id>/render/", api.ProfileRender.as_view(), name="api_profile_render"),
    path("profiles/<id:profile_id>/fork/", api.ProfileFork.as_view(), name="api_profile_fork"),
]
