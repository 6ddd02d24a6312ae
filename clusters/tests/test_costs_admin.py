"""Admins price each offering (docs/costs.md): the price per hour in the offerings' list and form,
and in the offerings API users choose from; clusters keep the price they were launched with."""

from decimal import Decimal

import pytest

from clusters.models import ServiceOffering
from clusters.tests.test_api_clusters import api_client

pytestmark = pytest.mark.django_db
URL = "/admin/clusters/serviceoffering/"


@pytest.fixture
def medium():
    return ServiceOffering.objects.create(
        name="medium", vcpus=2, ram_mb=4096, price_per_hour=Decimal("0.0464")
    )


def form(**changes) -> dict:
    data = {"name": "medium", "description": "", "active": "on", "vcpus": 2, "ram_mb": 4096, "disk_gb": 0,
            "price_per_hour": "0.0928", "mappings-TOTAL_FORMS": 0, "mappings-INITIAL_FORMS": 0,
            "mappings-MIN_NUM_FORMS": 0, "mappings-MAX_NUM_FORMS": 1000}  # fmt: skip
    return {**data, **changes}


def test_the_list_shows_each_offerings_price(root_client, medium):
    html = root_client.get(URL).content.decode()
    assert "Price per hour" in html and "0.0464" in html


def test_the_form_sets_the_price_and_the_cores(root_client, medium):
    answer = root_client.post(f"{URL}{medium.pk}/change/", form(vcpus=4))
    assert answer.status_code == 302, answer.content.decode()[:2000]
    medium.refresh_from_db()
    assert (medium.price_per_hour, medium.vcpus) == (Decimal("0.0928"), 4)


def test_a_negative_price_is_refused(root_client, medium):
    answer = root_client.post(f"{URL}{medium.pk}/change/", form(price_per_hour="-1"))
    assert answer.status_code == 200
    assert "Ensure this value is greater than or equal to 0." in answer.content.decode()
    medium.refresh_from_db()
    assert medium.price_per_hour == Decimal("0.0464")


def test_users_see_the_price_in_the_offerings_api(alice, medium):
    offerings = api_client(alice).get("/api/v1/offerings/").json()["results"]
    assert [(o["name"], o["price_per_hour"], o["vcpus"]) for o in offerings] == [("medium", "0.0464", 2)]
