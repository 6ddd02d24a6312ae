"""Cluster definition pages."""

urlpatterns = []
