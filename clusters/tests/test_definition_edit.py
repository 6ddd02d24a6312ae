"""Editing a definition: its fields and its roles on one page — change, add, remove, reorder."""

import pytest

from clusters.models import Role
from clusters.tests.definition_helpers import (
    definition_data,
    make_definition,
    make_image,
    make_offering,
    make_profile,
    role,
)
from contexts.profiles import add_revision

pytestmark = pytest.mark.django_db


@pytest.fixture
def pool(alice):
    """Alice's stored definition: master ×1 (pinned to revision 1) and worker ×4 needing it."""
    profile, image, offering = make_profile(alice), make_image(alice), make_offering()
    add_revision(profile, {"schema": 1, "timezone": "UTC"}, author=alice)
    roles = [
        {"name": "master", "profile": profile, "pinned_revision": profile.revisions.get(number=1),
         "image": image, "offering": offering},
        {"name": "worker", "profile": profile, "image": image, "offering": offering, "count": 4,
         "depends_on": ["master"], "max_count": 10},
    ]  # fmt: skip
    return make_definition(alice, roles=roles)


def stored_roles(definition):
    """The roles as the editor posts them back unchanged."""
    return [
        role(r.name, r.profile, r.image, offering=r.offering, count=r.count, min_count=r.min_count,
             max_count=r.max_count or "", depends_on=", ".join(r.depends_on),
             pinned_number=r.pinned_revision.number if r.pinned_revision else "")
        for r in definition.roles.all()
    ]  # fmt: skip


def test_the_editor_shows_the_stored_roles(alice_client, pool):
    response = alice_client.get(f"/definitions/{pool.pk}/edit/")
    assert response.status_code == 200
    master, worker = response.context["roles"].forms
    assert master["pinned_number"].value() == 1
    assert worker["count"].value() == 4
    assert 'name="roles-1-depends_on" value="master"' in response.content.decode()


def test_it_saves_a_changed_count_a_new_role_and_a_new_name(alice_client, pool):
    master, worker = stored_roles(pool)
    worker["count"] = 8
    storage = role("storage", pool.roles.first().profile, pool.roles.first().image, size="m5.large")
    worker["depends_on"] = "master storage"
    data = definition_data(master, worker, storage, name="Bigger pool", stored=list(pool.roles.all()))

    response = alice_client.post(f"/definitions/{pool.pk}/edit/", data)

    assert response.status_code == 302
    pool.refresh_from_db()
    assert pool.name == "Bigger pool"
    assert [(r.name, r.count, r.depends_on, r.position) for r in pool.roles.all()] == [
        ("master", 1, [], 0), ("worker", 8, ["master", "storage"], 1), ("storage", 1, [], 2)]  # fmt: skip


def test_a_pinned_revision_can_be_unpinned(alice_client, pool):
    master, worker = stored_roles(pool)
    master["pinned_number"] = ""
    alice_client.post(
        f"/definitions/{pool.pk}/edit/", definition_data(master, worker, stored=list(pool.roles.all()))
    )
    assert Role.objects.get(name="master").pinned_revision is None


def test_a_removed_role_is_deleted(alice_client, pool):
    master, worker = stored_roles(pool)
    worker["DELETE"] = "on"
    data = definition_data(master, worker, stored=list(pool.roles.all()))
    assert alice_client.post(f"/definitions/{pool.pk}/edit/", data).status_code == 302
    assert [r.name for r in pool.roles.all()] == ["master"]


def test_removing_a_role_others_depend_on_is_refused(alice_client, pool):
    master, worker = stored_roles(pool)
    master["DELETE"] = "on"
    response = alice_client.post(
        f"/definitions/{pool.pk}/edit/", definition_data(master, worker, stored=list(pool.roles.all()))
    )
    assert response.status_code == 200
    assert "depends on &#x27;master&#x27;, which is not a role of this cluster" in response.content.decode()
    assert pool.roles.count() == 2


def test_a_problem_on_edit_changes_nothing(alice_client, pool):
    master, worker = stored_roles(pool)
    worker["count"] = 11
    data = definition_data(master, worker, name="Renamed", stored=list(pool.roles.all()))
    response = alice_client.post(f"/definitions/{pool.pk}/edit/", data)
    assert response.status_code == 200
    assert "the count 11 is outside 0 to 10" in response.content.decode()
    pool.refresh_from_db()
    assert pool.name == "Condor pool"
    assert Role.objects.get(name="worker").count == 4


def test_two_roles_may_swap_names(alice_client, pool):
    master, worker = stored_roles(pool)
    master["name"], worker["name"], worker["depends_on"] = "worker", "master", "worker"
    response = alice_client.post(
        f"/definitions/{pool.pk}/edit/", definition_data(master, worker, stored=list(pool.roles.all()))
    )
    assert response.status_code == 302
    assert [(r.name, r.count, r.depends_on) for r in pool.roles.all()] == [
        ("worker", 1, []),
        ("master", 4, ["worker"]),
    ]


def test_a_role_keeps_an_offering_that_was_retired_since(alice_client, pool):
    pool.roles.first().offering.__class__.objects.update(active=False)
    master, worker = stored_roles(pool)
    data = definition_data(master, worker, stored=list(pool.roles.all()))
    assert alice_client.post(f"/definitions/{pool.pk}/edit/", data).status_code == 302
    assert alice_client.post("/definitions/new/", definition_data(master, name="Another")).status_code == 200


def test_a_profile_made_private_by_its_owner_can_no_longer_be_chosen(alice_client, pool, charlie):
    shared = make_profile(charlie, "Shared", visibility="public")
    master, worker = stored_roles(pool)
    master.update(profile=shared.pk, pinned_number="")
    data = definition_data(master, worker, stored=list(pool.roles.all()))
    assert alice_client.post(f"/definitions/{pool.pk}/edit/", data).status_code == 302

    shared.visibility = "private"
    shared.save()
    response = alice_client.post(f"/definitions/{pool.pk}/edit/", data)
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
