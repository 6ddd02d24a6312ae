from django.core.management.base import BaseCommand

from clusters.desktop import register_desktop_cloud


class Command(BaseCommand):
    help = "Register (or update) the site-wide desktop cloud (QEMU on this machine) when a base image exists."

    def handle(self, **options):
        cloud = register_desktop_cloud()
        if cloud is None:
            self.stdout.write("no desktop cloud: no base image yet (make image builds one)")
        else:
            self.stdout.write(f"desktop cloud ready: {cloud.name}")
