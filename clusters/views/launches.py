"""Launched cluster pages."""

urlpatterns = []
