"""Creating a cluster definition with its roles on one page (docs/architecture.md, docs/launches.md): what is wrong is said
on the form (status 200) and nothing is saved."""

import pytest

from clusters.models import ClusterDefinition, Role
from clusters.tests.definition_helpers import (
    WORKER_DOCUMENT,
    definition_data,
    make_image,
    make_offering,
    make_profile,
    role,
)
from contexts.profiles import add_revision

pytestmark = pytest.mark.django_db


@pytest.fixture
def parts(alice):
    """Alice's master and worker profiles (the worker's templates use roles.master), her image,
    and the offerings medium and large."""
    return {
        "master": make_profile(alice, "Condor master"),
        "worker": make_profile(alice, "Condor worker", document=WORKER_DOCUMENT),
        "image": make_image(alice),
        "medium": make_offering("medium"),
        "large": make_offering("large"),
    }


def master_and_workers(parts, **worker_fields):
    fields = {"offering": parts["large"], "count": 20, "depends_on": "master", **worker_fields}
    return (
        role("master", parts["master"], parts["image"], offering=parts["medium"]),
        role("worker", parts["worker"], parts["image"], **fields),
    )


def refused(response, *messages):
    """The form came back with `messages` and nothing was saved."""
    assert response.status_code == 200
    html = response.content.decode()
    for message in messages:
        assert message in html
    assert not ClusterDefinition.objects.exists()
    assert not Role.objects.exists()
    return html


def offered(response, field) -> list:
    """The choices a role's `field` offers on the page in `response`."""
    return list(response.context["roles"].empty_form.fields[field].queryset)


def test_the_new_definition_page_offers_one_blank_role_and_the_add_another_button(alice_client, parts):
    html = alice_client.get("/definitions/new/").content.decode()
    assert 'name="roles-0-name"' in html
    assert 'name="roles-1-name"' not in html
    assert 'id="empty-roles"' in html
    assert 'data-formset-add="roles"' in html
    assert "/static/portal/formset.js" in html


def test_it_creates_a_master_and_twenty_workers_that_depend_on_the_master(alice_client, alice, parts):
    response = alice_client.post("/definitions/new/", definition_data(*master_and_workers(parts)))

    definition = ClusterDefinition.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/definitions/{definition.pk}/"
    assert (definition.owner, definition.name, definition.visibility) == (alice, "Condor pool", "private")
    master, worker = definition.roles.all()
    assert (master.name, master.count, master.offering, master.depends_on, master.position) == (
        "master", 1, parts["medium"], [], 0)  # fmt: skip
    assert (worker.name, worker.count, worker.offering, worker.depends_on, worker.position) == (
        "worker", 20, parts["large"], ["master"], 1)  # fmt: skip
    assert worker.profile == parts["worker"]
    assert worker.image == parts["image"]
    assert worker.pinned_revision is None


def test_a_dependency_cycle_is_shown_on_the_form_and_nothing_is_saved(alice_client, parts):
    master, worker = master_and_workers(parts)
    master["depends_on"] = "worker"
    response = alice_client.post("/definitions/new/", definition_data(master, worker))
    refused(response, "go round in a circle")


def test_a_dependency_on_an_unknown_role_is_refused(alice_client, parts):
    master, worker = master_and_workers(parts, depends_on="master, storage")
    response = alice_client.post("/definitions/new/", definition_data(master, worker))
    refused(
        response,
        "role &#x27;worker&#x27; depends on &#x27;storage&#x27;, which is not a role of this cluster",
    )


def test_a_profile_that_uses_roles_master_needs_a_master_role(alice_client, parts):
    _master, worker = master_and_workers(parts, depends_on="")
    response = alice_client.post("/definitions/new/", definition_data(worker))
    refused(response, "its profile uses roles.master, which is not a role of this cluster")


def test_a_pinned_revision_is_what_names_the_roles_a_profile_needs(alice_client, parts, alice):
    """Revision 1 of the worker profile uses roles.master; its revision 2 does not."""
    add_revision(parts["worker"], {"schema": 1}, author=alice)
    _master, worker = master_and_workers(parts, depends_on="", pinned_number=1)
    refused(alice_client.post("/definitions/new/", definition_data(worker)), "roles.master")

    worker["pinned_number"] = 2
    assert alice_client.post("/definitions/new/", definition_data(worker)).status_code == 302
    assert Role.objects.get().pinned_revision.number == 2


def test_a_role_needs_an_offering_or_a_size(alice_client, parts):
    master, worker = master_and_workers(parts, offering="")
    response = alice_client.post("/definitions/new/", definition_data(master, worker))
    refused(response, "role &#x27;worker&#x27;: choose an offering or a provider size")


def test_a_role_may_name_a_provider_size_instead_of_an_offering(alice_client, parts):
    master, worker = master_and_workers(parts, offering="", size="t2.micro")
    assert alice_client.post("/definitions/new/", definition_data(master, worker)).status_code == 302
    assert Role.objects.get(name="worker").size == "t2.micro"


@pytest.mark.parametrize(
    ("count", "min_count", "max_count", "message"),
    [
        (25, 0, 10, "the count 25 is outside 0 to 10"),
        (1, 2, "", "the count 1 is outside 2 to ∞"),
        (5, 6, 4, "the minimum count 6 is above the maximum 4"),
    ],  # fmt: skip
)
def test_a_count_outside_min_and_max_is_refused(alice_client, parts, count, min_count, max_count, message):
    master, worker = master_and_workers(parts, count=count, min_count=min_count, max_count=max_count)
    refused(alice_client.post("/definitions/new/", definition_data(master, worker)), message)


def test_a_role_others_need_must_have_an_instance(alice_client, parts):
    master, worker = master_and_workers(parts)
    master["count"] = 0
    refused(
        alice_client.post("/definitions/new/", definition_data(master, worker)), "needs at least one instance"
    )


def test_a_definition_needs_a_role(alice_client, parts):
    refused(alice_client.post("/definitions/new/", definition_data()), "a cluster needs at least one role")


def test_blank_role_forms_are_left_out(alice_client, parts):
    master, worker = master_and_workers(parts)
    blank = {"name": "", "profile": "", "offering": "", "image": "", "count": 1, "min_count": 0}
    assert alice_client.post("/definitions/new/", definition_data(master, blank, worker)).status_code == 302
    assert [r.name for r in Role.objects.all()] == ["master", "worker"]


def test_two_roles_of_one_name_are_refused(alice_client, parts):
    master, _worker = master_and_workers(parts)
    refused(alice_client.post("/definitions/new/", definition_data(master, dict(master))))


def test_a_bad_role_name_is_refused(alice_client, parts):
    master, _worker = master_and_workers(parts)
    master["name"] = "Master Node"
    refused(alice_client.post("/definitions/new/", definition_data(master)), "lower-case letters")


def test_a_pinned_revision_the_profile_does_not_have_is_refused(alice_client, parts):
    master, worker = master_and_workers(parts, pinned_number=7)
    refused(
        alice_client.post("/definitions/new/", definition_data(master, worker)),
        "Condor worker has no revision 7.",
    )


def test_a_second_definition_of_the_same_name_is_refused(alice_client, parts):
    alice_client.post("/definitions/new/", definition_data(*master_and_workers(parts)))
    response = alice_client.post("/definitions/new/", definition_data(*master_and_workers(parts)))
    assert response.status_code == 200
    assert "You already have a definition named" in response.content.decode()
    assert ClusterDefinition.objects.count() == 1


def test_another_users_private_profile_is_not_offered_and_a_forged_choice_is_refused(
    alice_client, parts, charlie
):
    hidden = make_profile(charlie, "Charlie's private profile")
    response = alice_client.get("/definitions/new/")
    assert hidden not in offered(response, "profile")
    assert "Charlie&#x27;s private profile" not in response.content.decode()

    master, _worker = master_and_workers(parts)
    master["profile"] = hidden.pk
    refused(alice_client.post("/definitions/new/", definition_data(master)), "Select a valid choice.")


def test_a_public_profile_of_another_user_is_offered_with_its_owner_and_can_be_chosen(
    alice_client, parts, charlie
):
    shared = make_profile(charlie, "Shared master", visibility="public")
    html = alice_client.get("/definitions/new/").content.decode()
    assert f'<option value="{shared.pk}">Shared master (charlie)</option>' in html

    master, worker = master_and_workers(parts)
    master["profile"] = shared.pk
    assert alice_client.post("/definitions/new/", definition_data(master, worker)).status_code == 302
    assert Role.objects.get(name="master").profile == shared


def test_images_are_offered_as_name_and_cloud_and_another_users_are_refused(alice_client, parts, charlie):
    hidden = make_image(charlie, "Charlie's image", cloud_name="Charlie's cloud")
    site_wide = make_image(None, "AlmaLinux 9", cloud_name="Site cloud")
    response = alice_client.get("/definitions/new/")
    html = response.content.decode()
    assert "CernVM 4 — My EC2" in html
    assert "AlmaLinux 9 — Site cloud" in html
    assert hidden not in offered(response, "image")
    assert "Charlie&#x27;s image" not in html

    master, _worker = master_and_workers(parts)
    master["image"] = hidden.pk
    refused(alice_client.post("/definitions/new/", definition_data(master)), "Select a valid choice.")
    master["image"] = site_wide.pk
    assert alice_client.post("/definitions/new/", definition_data(master)).status_code == 302


def test_inactive_offerings_are_not_offered_for_a_new_role(alice_client, parts):
    retired = make_offering("retired", active=False)
    assert retired not in offered(alice_client.get("/definitions/new/"), "offering")
    master, _worker = master_and_workers(parts)
    master["offering"] = retired.pk
    refused(alice_client.post("/definitions/new/", definition_data(master)), "Select a valid choice.")


def test_a_post_without_the_roles_management_data_is_answered_on_the_form(alice_client, parts):
    refused(alice_client.post("/definitions/new/", {"name": "Forged", "visibility": "private"}))
