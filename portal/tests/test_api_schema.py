"""The OpenAPI schema at /api/schema/ and its docs at /api/docs/ (docs/api.md)."""

import json

import pytest
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS
from openapi_spec_validator import validate

CONTRACT_PATHS = [
    "/api/v1/profiles/",
    "/api/v1/profiles/{profile_id}/",
    "/api/v1/profiles/{profile_id}/render/",
    "/api/v1/profiles/{profile_id}/fork/",
    "/api/v1/clouds/",
    "/api/v1/clouds/{cloud_id}/",
    "/api/v1/clouds/{cloud_id}/check/",
    "/api/v1/offerings/",
    "/api/v1/images/",
    "/api/v1/pairing/",
    "/api/v1/pairing/claim/",
    "/api/v1/instance/checkin/",  # the URL takes it with or without the slash
    "/api/v1/instance/kv/{key}",
]


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


@pytest.mark.django_db
def test_the_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate(schema)


@pytest.mark.django_db
def test_the_schema_names_the_contract_paths(schema):
    for path in CONTRACT_PATHS:
        assert path in schema["paths"], path


@pytest.mark.django_db
def test_the_schema_describes_profiles_and_clouds(schema):
    components = schema["components"]["schemas"]
    assert {"id", "revision", "document"} <= set(components["ProfileDetail"]["properties"])
    assert "credentials_set" in components["Cloud"]["properties"]
    assert "credentials" not in components["Cloud"]["properties"]
    render = schema["paths"]["/api/v1/profiles/{profile_id}/render/"]["get"]
    assert "text/plain" in render["responses"]["200"]["content"]
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])


@pytest.mark.django_db
def test_the_schema_generates_without_warnings(tmp_path):
    GENERATOR_STATS.reset()
    call_command("spectacular", "--validate", "--file", str(tmp_path / "schema.yaml"))
    problems = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    assert problems == []


@pytest.mark.django_db
def test_the_docs_use_local_assets(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn." not in html and "unpkg" not in html


@pytest.mark.django_db
def test_an_unknown_api_path_is_a_json_404_and_a_page_elsewhere(client):
    response = client.get("/api/v1/profiles/99999999999999999999/")
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}
    page = client.get("/no/such/page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
