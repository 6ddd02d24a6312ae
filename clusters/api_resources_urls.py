"""REST API for clouds, offerings and images under /api/v1/ (SPEC §9)."""

urlpatterns = []
