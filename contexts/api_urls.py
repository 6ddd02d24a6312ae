"""REST API for profiles under /api/v1/ (SPEC §9)."""

urlpatterns = []
