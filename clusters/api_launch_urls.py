"""REST API for cluster definitions and clusters under /api/v1/ (SPEC §9)."""

from clusters.api_launch import urlpatterns

__all__ = ["urlpatterns"]
