"""The rules of an elastic role (clusters.definitions, docs/elastic.md): a maximum within the
ceiling, at most one elastic role, sensible times, and an elastic role that others need starts
with at least one instance. One set of rules for the editor, the API and the launcher."""

import pytest

from clusters.definitions import (
    MAX_ELASTIC_COUNT,
    definition_problems,
    duration_words,
    launch_count,
    role_shape,
)
from clusters.models import ClusterDefinition, Role
from clusters.tests.definition_helpers import WORKER_DOCUMENT, make_image, make_offering, make_profile
from clusters.topology import svg

pytestmark = pytest.mark.django_db


@pytest.fixture
def parts(alice):
    return {"profile": make_profile(alice), "worker": make_profile(alice, "Worker", document=WORKER_DOCUMENT),
            "image": make_image(alice), "offering": make_offering()}  # fmt: skip


def role(parts, name="master", **changes):
    return {"name": name, "profile": parts["profile"], "pinned_revision": None, "offering": parts["offering"],
            "size": "", "image": parts["image"], "count": 1, "min_count": 0, "max_count": None, "depends_on": [],
            "elastic": False, "jobs_per_worker": 1, "idle_seconds": 600, "cooldown_seconds": 120,
            "drain_deadline_seconds": 3600, "spot": False, **changes}  # fmt: skip


def worker(parts, **changes):
    """An elastic worker role, 0 to 20, that needs the master's address."""
    values = {"name": "worker", "profile": parts["worker"], "depends_on": ["master"], "elastic": True,
              "max_count": 20, **changes}  # fmt: skip
    return role(parts, **values)


def problems_of(owner, *roles):
    return definition_problems(ClusterDefinition(owner=owner, name="new"), list(roles))


def test_an_elastic_worker_role_from_0_to_20_is_fine(alice, parts):
    assert problems_of(alice, role(parts), worker(parts)) == []


def test_an_elastic_role_ignores_its_count(alice, parts):
    assert problems_of(alice, role(parts), worker(parts, count=500, max_count=20)) == []
    fixed = problems_of(alice, role(parts), worker(parts, count=500, max_count=20, elastic=False))
    assert fixed == ["role 'worker': the count 500 is outside 0 to 20"]


def test_an_elastic_role_needs_a_maximum(alice, parts):
    assert problems_of(alice, role(parts), worker(parts, max_count=None)) == [
        "role 'worker': an elastic role needs a maximum count"
    ]


def test_an_elastic_role_needs_a_maximum_of_at_least_one(alice, parts):
    assert problems_of(alice, role(parts), worker(parts, max_count=0)) == [
        "role 'worker': an elastic role needs a maximum of at least 1"
    ]


def test_an_elastic_roles_minimum_is_not_above_its_maximum(alice, parts):
    assert problems_of(alice, role(parts), worker(parts, min_count=5, max_count=2)) == [
        "role 'worker': the minimum count 5 is above the maximum 2"
    ]


def test_an_elastic_role_grows_to_the_ceiling_at_most(alice, parts):
    assert problems_of(alice, role(parts), worker(parts, max_count=MAX_ELASTIC_COUNT)) == []
    assert problems_of(alice, role(parts), worker(parts, max_count=MAX_ELASTIC_COUNT + 1)) == [
        "role 'worker': an elastic role grows to at most 1000 instances, not 1001"
    ]


def test_only_one_role_may_be_elastic(alice, parts):
    gpu = worker(parts, name="gpu")
    assert problems_of(alice, role(parts), worker(parts), gpu) == [
        "role 'gpu': only one role may be elastic, and 'worker' already is: the head's queue feeds one "
        "elastic role"
    ]


def test_a_fixed_role_may_sit_beside_the_elastic_one(alice, parts):
    storage = role(parts, "storage", count=2, spot=True)
    assert problems_of(alice, role(parts), worker(parts), storage) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("jobs_per_worker", 0, "role 'worker': jobs per worker must be at least 1"),
        ("idle_seconds", 0, "role 'worker': the idle time before a drain must be at least 1 second"),
        ("drain_deadline_seconds", 0, "role 'worker': the drain deadline must be at least 1 second"),
        (
            "idle_seconds",
            30 * 24 * 3600 + 1,
            "role 'worker': the idle time before a drain must be at most 30 days, not 2592001 seconds",
        ),
        (
            "cooldown_seconds",
            10**9,
            "role 'worker': the cool-down must be at most 30 days, not 1000000000 seconds",
        ),
        (
            "drain_deadline_seconds",
            10**9,
            "role 'worker': the drain deadline must be at most 30 days, not 1000000000 seconds",
        ),
    ],
)
def test_an_elastic_roles_times_and_jobs_make_sense(alice, parts, field, value, message):
    assert problems_of(alice, role(parts), worker(parts, **{field: value})) == [message]


def test_a_cool_down_of_zero_decides_every_period(alice, parts):
    assert problems_of(alice, role(parts), worker(parts, cooldown_seconds=0)) == []


def test_a_fixed_roles_unused_policy_is_not_checked(alice, parts):
    fixed = role(parts, "storage", jobs_per_worker=0, idle_seconds=0, drain_deadline_seconds=0)
    assert problems_of(alice, role(parts), fixed) == []


def test_an_elastic_role_others_need_must_start_with_one_instance(alice, parts):
    """It launches at its minimum (clusters.launcher.launch_count): at 0, the roles that need its
    address would wait for ever."""
    head = role(parts, "head", depends_on=["master"])
    found = problems_of(alice, head, worker(parts, name="master", depends_on=[]))
    assert found == ["role 'master': other roles need its address, so its minimum must be at least 1"]
    assert problems_of(alice, head, worker(parts, name="master", depends_on=[], min_count=1)) == []


def test_an_elastic_role_launches_at_its_minimum_and_draws_its_range(alice, parts):
    elastic = worker(parts, min_count=2, count=7)
    assert launch_count(elastic) == 2 and launch_count(role(parts, count=7)) == 7
    picture = svg([role_shape(role(parts)), role_shape(elastic)])
    assert "worker × 2–20" in picture and "master × 1" in picture


def test_the_rules_read_a_stored_elastic_role_too(alice, parts):
    definition = ClusterDefinition.objects.create(owner=alice, name="stored")
    alone = worker(parts, max_count=None, profile=parts["profile"], depends_on=[])
    Role.objects.create(definition=definition, **{k: v for k, v in alone.items() if v is not None})
    assert definition_problems(definition) == ["role 'worker': an elastic role needs a maximum count"]


@pytest.mark.parametrize(
    ("seconds", "words"), [(600, "10 min"), (90, "90 s"), (3600, "1 h"), (5400, "90 min"), (0, "0 s")]
)
def test_durations_read_as_people_say_them(seconds, words):
    assert duration_words(seconds) == words
