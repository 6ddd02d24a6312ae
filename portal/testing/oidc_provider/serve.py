"""Run the test OpenID Connect provider: `python -m portal.testing.oidc_provider.serve`.

Reads PROVIDER_DATABASE, PROVIDER_PORT, PROVIDER_CLIENT_ID, PROVIDER_CLIENT_SECRET,
PROVIDER_REDIRECT_URIS (space-separated) and PROVIDER_USERS (JSON: a list of objects with
username, password, email, first_name, last_name); creates its database, the users and one
confidential client, then serves on 127.0.0.1 until stopped.
"""

import json
import os

import django
from django.core.management import call_command


def main():
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.testing.oidc_provider.settings"
    django.setup()
    call_command("migrate", verbosity=0, interactive=False)

    from django.contrib.auth.models import User
    from oauth2_provider.models import Application

    for person in json.loads(os.environ["PROVIDER_USERS"]):
        User.objects.create_user(**person)
    Application.objects.create(
        name="Context Portal",
        client_id=os.environ["PROVIDER_CLIENT_ID"],
        client_secret=os.environ["PROVIDER_CLIENT_SECRET"],  # stored hashed on save
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=os.environ["PROVIDER_REDIRECT_URIS"],
        post_logout_redirect_uris=os.environ.get("PROVIDER_POST_LOGOUT_REDIRECT_URIS", ""),
        algorithm=Application.RS256_ALGORITHM,
    )
    call_command(
        "runserver", f"127.0.0.1:{os.environ['PROVIDER_PORT']}", use_reloader=False, use_threading=True
    )


if __name__ == "__main__":
    main()
