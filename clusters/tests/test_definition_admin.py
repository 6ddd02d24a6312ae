"""Definitions in the Django admin, with their roles inline."""

import pytest

from clusters.tests.definition_helpers import make_definition, make_image, make_offering, make_profile

pytestmark = pytest.mark.django_db


@pytest.fixture
def root_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.org", "pw"))
    return client


def test_the_admin_lists_definitions_and_edits_their_roles_inline(root_client, alice):
    role = {"name": "worker", "profile": make_profile(alice), "image": make_image(alice), "offering": make_offering(),
            "size": "t2.nano-admin"}  # fmt: skip
    definition = make_definition(alice, roles=[role])
    assert "Condor pool" in root_client.get("/admin/clusters/clusterdefinition/").content.decode()
    html = root_client.get(f"/admin/clusters/clusterdefinition/{definition.pk}/change/").content.decode()
    assert 'name="roles-0-name"' in html
    assert "t2.nano-admin" in html
