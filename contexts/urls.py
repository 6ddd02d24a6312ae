"""The contexts app's pages: profiles under /profiles/, the marketplace's profile pages and the
pairing pages (docs/architecture.md). The REST API's paths are in contexts/api_urls.py."""

from django.urls import path

import portal.converters  # noqa: F401 - registers <id:...>
from contexts import pairing_api, views, views_marketplace, views_pairing

app_name = "contexts"

urlpatterns = [
    path("", views.profile_list, name="profile_list"),
    path("new/", views.profile_create, name="profile_create"),
    path("<id:profile_id>/", views.profile_detail, name="profile_detail"),
    path("<id:profile_id>/edit/", views.profile_edit, name="profile_edit"),
    path("<id:profile_id>/yaml/", views.profile_yaml, name="profile_yaml"),
    path("<id:profile_id>/settings/", views.profile_settings, name="profile_settings"),
    path("<id:profile_id>/history/", views.profile_history, name="profile_history"),
    path("<id:profile_id>/diff/", views.profile_diff, name="profile_diff"),
    path("<id:profile_id>/preview/<str:fmt>/", views.profile_preview, name="profile_preview"),
    path("<id:profile_id>/download/<str:fmt>/", views.profile_download, name="profile_download"),
    path("<id:profile_id>/delete/", views.profile_delete, name="profile_delete"),
]

# Under /marketplace/, in the "marketplace" namespace (with clusters.urls' list of definitions).
marketplace_urlpatterns = [
    path("", views_marketplace.profile_browse, name="profiles"),
    path("profiles/<id:profile_id>/", views_marketplace.profile_page, name="profile"),
    path("profiles/<id:profile_id>/star/", views_marketplace.profile_star, name="profile_star"),
    path("profiles/<id:profile_id>/unstar/", views_marketplace.profile_unstar, name="profile_unstar"),
    path("profiles/<id:profile_id>/fork/", views_marketplace.profile_fork, name="profile_fork"),
]

# At the root: the pairing API a VM's script calls, the /pair/ page and the script itself.
pairing_urlpatterns = [
    path("api/v1/pairing/", pairing_api.PairingCreate.as_view(), name="pairing_create"),
    path("api/v1/pairing/claim/", pairing_api.PairingClaim.as_view(), name="pairing_claim"),
    path("api/v1/pairing/poll/<str:token>/", pairing_api.PairingPoll.as_view(), name="pairing_poll"),
    path("pair/", views_pairing.pair, name="pair"),
    path("agent/pair.sh", views_pairing.pair_script, name="pair_script"),
]
