"""A bounded schemathesis run against the live test server: whatever the OpenAPI schema allows
(and much it does not), the profiles, clouds, images, offerings and pairing API answer without
a 500 (docs/api.md, docs/security.md). Slow: run with `-m slow`."""

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from clusters.tests.cloud_helpers import make_cloud
from contexts.tests.profile_helpers import make_profile

FUZZED_PATHS = r"^/api/v1/(profiles|clouds|images|offerings|pairing|cluster-definitions|clusters)/"

# The schema as /api/schema/ serves it; pytest-django has set Django up before collection.
schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))


@pytest.fixture
def token(transactional_db) -> str:
    alice = get_user_model().objects.create_user(username="alice-fuzz", password="pw")
    profile = make_profile(alice, visibility="public")
    make_cloud(alice)
    assert profile.pk  # some ids exist, so not every call is a 404
    return Token.objects.create(user=alice).key


@pytest.mark.slow
@schema.include(path_regex=FUZZED_PATHS).parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
        HealthCheck.too_slow,
    ],
)
def test_the_api_never_answers_500_nor_against_its_schema(case, token, live_server):
    response = case.call(base_url=live_server.url, headers={"Authorization": f"Token {token}"}, timeout=10)
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"
    # What a documented answer says must match its schema (undocumented 4xx codes are not checked).
    case.validate_response(response, checks=[response_schema_conformance, content_type_conformance])
