"""REST API for cluster definitions and clusters under /api/v1/ (docs/api.md)."""

from clusters.api_launch import urlpatterns

__all__ = ["urlpatterns"]
