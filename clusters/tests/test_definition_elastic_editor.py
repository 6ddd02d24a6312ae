"""Making a role elastic in the definition editor, and reading its policy on the definition's page
(docs/elastic.md): min, max, jobs per worker, idle time, cool-down, drain deadline, spot capacity."""

import re

import pytest

from clusters.models import ClusterDefinition, Role
from clusters.tests.definition_helpers import (
    WORKER_DOCUMENT,
    definition_data,
    make_definition,
    make_image,
    make_offering,
    make_profile,
    role,
)

pytestmark = pytest.mark.django_db

POLICY = {"elastic": "on", "min_count": 0, "max_count": 20, "jobs_per_worker": 4, "idle_seconds": 600,
          "cooldown_seconds": 60, "drain_deadline_seconds": 1800, "spot": "on"}  # fmt: skip


@pytest.fixture
def parts(alice):
    return {"master": make_profile(alice, "Condor master"),
            "worker": make_profile(alice, "Condor worker", document=WORKER_DOCUMENT),
            "image": make_image(alice), "offering": make_offering()}  # fmt: skip


def roles_posted(parts, **worker_fields):
    return (
        role("master", parts["master"], parts["image"], offering=parts["offering"]),
        role("worker", parts["worker"], parts["image"], offering=parts["offering"], depends_on="master",
             **worker_fields),
    )  # fmt: skip


@pytest.fixture
def pool(alice, parts):
    """Alice's stored definition with an elastic worker role, 0 to 20."""
    fields = {"profile": parts["worker"], "image": parts["image"], "offering": parts["offering"]}
    return make_definition(alice, roles=[
        {"name": "master", "profile": parts["master"], "image": parts["image"], "offering": parts["offering"]},
        {"name": "worker", "depends_on": ["master"], "elastic": True, "max_count": 20, "jobs_per_worker": 4,
         "idle_seconds": 600, "spot": True, **fields},
    ])  # fmt: skip


def test_it_saves_an_elastic_role_with_its_policy_and_spot_capacity(alice_client, parts):
    response = alice_client.post("/definitions/new/", definition_data(*roles_posted(parts, **POLICY)))

    assert response.status_code == 302
    worker = Role.objects.get(name="worker")
    assert (worker.elastic, worker.min_count, worker.max_count, worker.jobs_per_worker) == (True, 0, 20, 4)
    assert (worker.idle_seconds, worker.cooldown_seconds, worker.drain_deadline_seconds) == (600, 60, 1800)
    assert worker.spot is True
    master = Role.objects.get(name="master")
    assert (master.elastic, master.spot) == (False, False)


def test_a_policy_left_empty_takes_the_usual_values(alice_client, parts):
    empty = dict(POLICY, jobs_per_worker="", idle_seconds="", cooldown_seconds="", drain_deadline_seconds="")
    assert (
        alice_client.post("/definitions/new/", definition_data(*roles_posted(parts, **empty))).status_code
        == 302
    )
    worker = Role.objects.get(name="worker")
    assert (worker.jobs_per_worker, worker.idle_seconds, worker.cooldown_seconds, worker.drain_deadline_seconds) == (
        1, 600, 120, 3600)  # fmt: skip


def test_an_elastic_role_without_a_maximum_is_refused_and_nothing_is_saved(alice_client, parts):
    response = alice_client.post(
        "/definitions/new/", definition_data(*roles_posted(parts, **dict(POLICY, max_count="")))
    )
    assert response.status_code == 200
    assert "role &#x27;worker&#x27;: an elastic role needs a maximum count" in response.content.decode()
    assert not ClusterDefinition.objects.exists()


def test_a_nonsense_time_is_refused_on_its_field(alice_client, parts):
    response = alice_client.post(
        "/definitions/new/", definition_data(*roles_posted(parts, **dict(POLICY, idle_seconds="-5")))
    )
    assert response.status_code == 200
    assert response.context["roles"].forms[1].errors["idle_seconds"]
    assert not ClusterDefinition.objects.exists()


def test_the_editor_shows_the_policy_and_the_switch_without_inline_code(alice_client, pool):
    response = alice_client.get(f"/definitions/{pool.pk}/edit/")
    worker = response.context["roles"].forms[1]
    assert worker["elastic"].value() is True and worker["spot"].value() is True
    assert (worker["max_count"].value(), worker["jobs_per_worker"].value(), worker["idle_seconds"].value()) == (
        20, 4, 600)  # fmt: skip
    html = response.content.decode()
    assert re.search(r'<input[^>]*name="roles-1-elastic"[^>]*data-elastic-switch', html) or re.search(
        r'<input[^>]*data-elastic-switch[^>]*name="roles-1-elastic"', html)  # fmt: skip
    assert "Idle time before drain (seconds)" in html and "Drain deadline (seconds)" in html
    assert html.count("data-shown-when-elastic") == 3  # two roles and the blank one "Add another" copies
    assert "/static/clusters/definition_form.js" in html
    assert " style=" not in html.split("<main", 1)[1]  # a strict CSP forbids inline styles
    assert "<script>" not in html


def test_unticking_elastic_makes_the_role_fixed_again(alice_client, pool, parts):
    stored = list(pool.roles.all())
    master, worker = roles_posted(parts, count=3, max_count=20)  # "elastic" not posted: unticked
    response = alice_client.post(
        f"/definitions/{pool.pk}/edit/", definition_data(master, worker, stored=stored)
    )
    assert response.status_code == 302
    worker = Role.objects.get(name="worker")
    assert (worker.elastic, worker.count, worker.spot) == (False, 3, False)


def test_the_definition_page_says_the_policy_in_words(alice_client, pool):
    html = alice_client.get(f"/definitions/{pool.pk}/").content.decode()
    assert "elastic 0–20 workers, 4 jobs per worker, drain after 10 min idle, 2 min between changes, " \
           "terminated 1 h into a drain" in html  # fmt: skip
    assert "spot capacity" in html
    assert "worker × 0–20" in html  # the topology picture


def test_the_list_shows_the_elastic_range_and_counts_its_minimum(alice_client, pool):
    html = alice_client.get("/definitions/").content.decode()
    assert "worker × 0–20" in html
    assert re.search(r'<td class="text-end">1</td>', html)  # the master; the workers start at 0


def test_a_stranger_cannot_make_a_role_elastic(charlie_client, pool, parts):
    pool.visibility = "public"
    pool.save()
    master, worker = roles_posted(parts, **dict(POLICY, max_count=5))
    data = definition_data(master, worker, stored=list(pool.roles.all()))
    assert charlie_client.post(f"/definitions/{pool.pk}/edit/", data).status_code == 404
    assert Role.objects.get(name="worker").max_count == 20
    assert "elastic 0–20 workers" in charlie_client.get(f"/definitions/{pool.pk}/").content.decode()
