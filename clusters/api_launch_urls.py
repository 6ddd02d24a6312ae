"""REST API for cluster definitions and clusters under /api/v1/ (SPEC §9)."""

urlpatterns = []
