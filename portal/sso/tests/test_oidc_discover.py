"""`manage.py oidc_discover ISSUER` prints the provider's settings for the .env, read from its
discovery document; a wrong address is a one-line error."""

import pytest
from django.core.management import CommandError, call_command


def test_it_prints_the_settings_of_a_real_provider(oidc_provider, capsys):
    call_command("oidc_discover", oidc_provider.issuer + "/")
    printed = dict(line.split("=", 1) for line in capsys.readouterr().out.split())
    expected = {
        name: value for name, value in oidc_provider.portal_settings().items() if name.startswith("OIDC_OP_")
    }
    assert printed == {**expected, "OIDC_RP_SIGN_ALGO": "RS256"}


def test_an_address_without_a_provider_is_a_clear_error(oidc_provider):
    with pytest.raises(CommandError, match="no discovery document at .*/elsewhere/.well-known"):
        call_command("oidc_discover", oidc_provider.url + "/elsewhere")


def test_a_document_naming_another_issuer_is_refused(oidc_provider):
    # The provider's discovery document, reached by another name for the same server.
    other_name = oidc_provider.issuer.replace("127.0.0.1", "localhost")
    with pytest.raises(CommandError, match="names the issuer"):
        call_command("oidc_discover", other_name)
