"""The rules of a definition (clusters.definitions), as the editor, the API and the launcher see
them: checked on roles about to be saved (dicts of Role fields) or on the stored ones."""

import pytest

from clusters.definitions import definition_problems, definition_roles, role_data, role_shape
from clusters.models import ClusterDefinition
from clusters.tests.definition_helpers import (
    WORKER_DOCUMENT,
    make_definition,
    make_image,
    make_offering,
    make_profile,
)
from contexts.profiles import add_revision

pytestmark = pytest.mark.django_db


@pytest.fixture
def parts(alice):
    return {"profile": make_profile(alice), "image": make_image(alice), "offering": make_offering()}


def master(parts, **changes):
    return {"name": "master", "profile": parts["profile"], "pinned_revision": None, "offering": parts["offering"],
            "size": "", "image": parts["image"], "count": 1, "min_count": 0, "max_count": None,
            "depends_on": [], **changes}  # fmt: skip


def problems_of(owner, *roles):
    return definition_problems(ClusterDefinition(owner=owner, name="new"), list(roles))


def test_a_good_definition_has_no_problem(alice, parts):
    assert (
        problems_of(alice, master(parts), master(parts, name="worker", count=20, depends_on=["master"])) == []
    )


def test_a_profile_neither_mine_nor_public_is_a_problem(alice, charlie, parts):
    found = problems_of(alice, master(parts, profile=make_profile(charlie, "Charlie's")))
    assert found == ["role 'master': the profile is neither yours nor public"]


def test_another_users_public_profile_is_fine(alice, charlie, parts):
    assert (
        problems_of(alice, master(parts, profile=make_profile(charlie, "Shared", visibility="public"))) == []
    )


def test_a_pinned_revision_of_another_profile_is_a_problem(alice, parts):
    other = make_profile(alice, "Other")
    found = problems_of(alice, master(parts, pinned_revision=other.latest))
    assert found == ["role 'master': revision 1 is not a revision of Condor"]


def test_an_image_on_another_users_cloud_is_a_problem_and_a_site_wide_one_is_not(alice, charlie, parts):
    found = problems_of(alice, master(parts, image=make_image(charlie, cloud_name="Charlie's cloud")))
    assert found == ["role 'master': the image CernVM 4 is on a cloud you cannot use"]
    assert problems_of(alice, master(parts, image=make_image(None, cloud_name="Site cloud"))) == []


def test_a_role_without_profile_or_image_says_so(alice, parts):
    found = problems_of(alice, master(parts, profile=None, image=None))
    assert found == ["role 'master': choose a profile", "role 'master': choose an image"]


def test_the_stored_roles_are_checked_when_no_roles_are_given(alice, charlie, parts):
    stored = master(parts, profile=make_profile(charlie, "Charlie's"))
    definition = make_definition(alice, roles=[{k: v for k, v in stored.items() if v is not None}])
    assert definition_problems(definition) == ["role 'master': the profile is neither yours nor public"]


def test_role_shapes_label_each_role_with_its_offering_or_size(alice, parts):
    definition = make_definition(alice, roles=[
        {"name": "master", "profile": parts["profile"], "image": parts["image"], "offering": parts["offering"]},
        {"name": "worker", "profile": parts["profile"], "image": parts["image"], "size": "t2.micro", "count": 3,
         "depends_on": ["master"]},
    ])  # fmt: skip
    shapes = [role_shape(role_data(role)) for role in definition_roles(definition)]
    assert [(s.name, s.count, s.label, s.depends_on) for s in shapes] == [
        ("master", 1, "medium", []), ("worker", 3, "t2.micro", ["master"])]  # fmt: skip


def test_role_shapes_take_the_needed_roles_from_the_pinned_revision_else_the_latest(alice, parts):
    profile = make_profile(alice, "Worker", document=WORKER_DOCUMENT)
    add_revision(profile, {"schema": 1}, author=alice)
    first = profile.revisions.get(number=1)
    fields = {"profile": profile, "image": parts["image"], "offering": parts["offering"]}
    definition = make_definition(alice, roles=[{"name": "pinned", "pinned_revision": first, **fields},
                                               {"name": "latest", **fields}])  # fmt: skip
    assert [role_shape(role_data(role)).needs_roles for role in definition_roles(definition)] == [
        {"master"},
        set(),
    ]
