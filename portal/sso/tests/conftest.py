"""A real OpenID Connect provider (django-oauth-toolkit, portal/testing/oidc_provider) in a
process of its own for the session, and the portal configured to use it."""

import pytest

from portal.testing.oidc_provider import running_provider

CALLBACK = "/accounts/oidc/callback/"


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    # The test client's host, and the live server's (any port: loopback redirects, RFC 8252 7.3).
    redirect_uris = [f"http://testserver{CALLBACK}", f"http://localhost{CALLBACK}"]
    with running_provider(tmp_path_factory.mktemp("oidc-provider"), redirect_uris,
                          post_logout_redirect_uris=["http://testserver/"]) as provider:  # fmt: skip
        yield provider


@pytest.fixture
def sso(settings, oidc_provider):
    """The portal with institutional login turned on, as a site's environment would."""
    for name, value in oidc_provider.portal_settings().items():
        setattr(settings, name, value)
    settings.OIDC_LOGIN_LABEL = "Log in with Example SSO"
    settings.OIDC_OP_LOGOUT_ENDPOINT = ""  # a test that wants the provider's logout sets it
    return oidc_provider
