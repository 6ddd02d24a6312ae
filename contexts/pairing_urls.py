"""Pairing (docs/pairing.md): the API under /api/v1/pairing/, the /pair/ page and the VM's script."""

from django.urls import path

from contexts import pairing_api, views_pairing

urlpatterns = [
    path("api/v1/pairing/", pairing_api.pairing_create, name="pairing_create"),
    path("api/v1/pairing/claim/", pairing_api.pairing_claim, name="pairing_claim"),
    path("api/v1/pairing/poll/<str:token>/", pairing_api.pairing_poll, name="pairing_poll"),
    path("pair/", views_pairing.pair, name="pair"),
    path("agent/pair.sh", views_pairing.pair_script, name="pair_script"),
]
