"""Create the demo admin account `make run` prints, once; its password is kept in var/."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from portal.keys import ensure_key_file


class Command(BaseCommand):
    help = "Create (once) the demo admin user and print its login."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo")

    def handle(self, username, **options):
        password_file = settings.VAR_DIR / "demo-password"
        password = ensure_key_file(password_file, "password")
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True}
        )
        if created or not user.check_password(password):
            user.set_password(password)
            user.save()
        self.stdout.write(f"demo login: {username} / {password}")
