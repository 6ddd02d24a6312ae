"""`manage.py create_api_token USERNAME [--create-user]` prints a token for the REST API (docs/api.md).

Clients send it as `Authorization: Token <token>`. Each call makes a new token; the old one stops
working.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Print a new REST API token for a user (the user's previous token stops working)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--create-user", action="store_true", help="create the user when missing")

    def handle(self, username, create_user, **options):
        users = get_user_model().objects
        user = users.filter(username=username).first()
        if user is None:
            if not create_user:
                raise CommandError(f"no user {username!r} (add --create-user to make one)", returncode=2)
            user = users.create_user(username=username)  # no password: API only until one is set
        Token.objects.filter(user=user).delete()
        self.stdout.write(Token.objects.create(user=user).key)
