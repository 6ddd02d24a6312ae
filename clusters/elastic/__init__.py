"""Elastic roles (docs/elastic.md): workers follow the batch queue their cluster's head reports."""
