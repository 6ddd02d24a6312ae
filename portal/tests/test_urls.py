"""Paths: one converter for ids in every app's pages and API (portal/converters.py)."""

import pytest

HUGE = "9" * 25  # more digits than any database integer holds


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        f"/profiles/{HUGE}/",
        f"/marketplace/profiles/{HUGE}/",
        f"/clouds/{HUGE}/",
        f"/clouds/1/images/{HUGE}/delete/",
        f"/definitions/{HUGE}/",
        f"/definitions/{HUGE}/launch/",
        f"/clusters/{HUGE}/live/",
        f"/api/v1/profiles/{HUGE}/",
        f"/api/v1/clouds/{HUGE}/",
        f"/api/v1/cluster-definitions/{HUGE}/",
        f"/api/v1/clusters/{HUGE}/",
    ],
)
def test_an_id_too_large_for_the_database_is_a_404_everywhere(alice_client, path):
    assert alice_client.get(path).status_code == 404
