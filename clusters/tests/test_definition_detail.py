"""The definition page: description, roles, the topology picture and what keeps it from launching."""

import re

import pytest

from clusters.tests.definition_helpers import (
    WORKER_DOCUMENT,
    make_definition,
    make_image,
    make_offering,
    make_profile,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def pool(alice):
    """master ×1 (medium), storage ×2 (size m5.large), worker ×20 (large) needing both."""
    image = make_image(alice)
    roles = [
        {"name": "master", "profile": make_profile(alice, "Master"), "image": image, "offering": make_offering()},
        {"name": "storage", "profile": make_profile(alice, "Storage"), "image": image, "size": "m5.large",
         "count": 2},
        {"name": "worker", "profile": make_profile(alice, "Worker", document=WORKER_DOCUMENT), "image": image,
         "offering": make_offering("large"), "count": 20, "depends_on": ["master", "storage"]},
    ]  # fmt: skip
    definition = make_definition(alice, roles=roles, visibility="public")
    definition.description = "Workers & a master."
    definition.save()
    return definition


def picture(html: str) -> str:
    return re.search(
        r'<div class="mb-4 overflow-auto" id="topology">(<svg.*?</svg>)</div>', html, re.S
    ).group(1)


def test_the_picture_has_a_box_per_role_and_an_arrow_per_dependency(alice_client, pool):
    svg = picture(alice_client.get(f"/definitions/{pool.pk}/").content.decode())
    boxes = re.findall(r'<g class="role" data-role="(\w+)">.*?</g>', svg)
    assert sorted(boxes) == ["master", "storage", "worker"]
    arrows = re.findall(r'<line class="dependency" data-from="(\w+)" data-to="(\w+)"', svg)
    assert sorted(arrows) == [("worker", "master"), ("worker", "storage")]


def test_each_box_shows_the_count_and_the_offering_or_size(alice_client, pool):
    svg = picture(alice_client.get(f"/definitions/{pool.pk}/").content.decode())
    for text in ("master × 1", "medium", "storage × 2", "m5.large", "worker × 20", "large"):
        assert f">{text}</text>" in svg


def test_the_page_shows_the_description_and_the_roles(alice_client, pool):
    html = alice_client.get(f"/definitions/{pool.pk}/").content.decode()
    assert "Workers &amp; a master." in html
    for text in ("Master", "Storage", "Worker", "latest revision", "CernVM 4", "My EC2", "master, storage"):
        assert text in html
    assert "cannot be launched yet" not in html


def test_a_stored_definition_that_cannot_launch_lists_its_problems(alice_client, pool):
    pool.roles.filter(name="master").delete()
    html = alice_client.get(f"/definitions/{pool.pk}/").content.decode()
    assert "cannot be launched yet" in html
    assert (
        "role &#x27;worker&#x27; depends on &#x27;master&#x27;, which is not a role of this cluster" in html
    )
    assert "its profile uses roles.master" in html


def test_the_page_has_the_launch_spot_for_the_launcher(alice_client, pool):
    html = alice_client.get(f"/definitions/{pool.pk}/").content.decode()
    assert 'id="launch"' in html


def test_others_see_a_public_definition_without_its_owners_cloud_names(charlie_client, pool):
    html = charlie_client.get(f"/definitions/{pool.pk}/").content.decode()
    assert "by alice" in html
    assert "CernVM 4" in html
    assert "My EC2" not in html


def test_the_page_reads_a_bounded_number_of_rows(alice_client, pool, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        alice_client.get(f"/definitions/{pool.pk}/")
