from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.key_rotation import RotationError, rotate_all


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the first key of PORTAL_ENCRYPTION_KEY. Put the new key "
        "first (NEW,OLD), restart the portal and its workers, run this, then drop OLD (docs/security.md)."
    )

    def handle(self, **options):
        keys = len(settings.PORTAL_ENCRYPTION_KEYS)
        try:
            counts = rotate_all()
        except RotationError as error:
            raise CommandError(str(error)) from None
        for field, count in counts.items():
            self.stdout.write(f"{field}: {count} re-encrypted")
        self.stdout.write(
            f"Every secret ({sum(counts.values())}) is encrypted with the first of the {keys} configured key(s); "
            + (
                "the others can now be removed from PORTAL_ENCRYPTION_KEY."
                if keys > 1
                else "there is no other key."
            )
        )
