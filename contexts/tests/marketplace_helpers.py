"""Helpers shared by the marketplace tests: public profiles with a description and tags."""

from contexts.profiles import create_profile
from contexts.tests.profile_helpers import full_document


def publish(owner, name, *, description="", tags=(), visibility="public"):
    return create_profile(
        owner, name, full_document(), description=description, tags=tags, visibility=visibility
    )
