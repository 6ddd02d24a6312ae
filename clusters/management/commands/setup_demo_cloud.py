import socket
import time

from django.core.management.base import BaseCommand, CommandError

from clusters.demo import register_demo_cloud


class Command(BaseCommand):
    help = "Register (or update) the site-wide demo cloud: a local EC2-compatible server."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, required=True)
        parser.add_argument("--wait", type=float, default=30, help="seconds to wait for the server")

    def handle(self, host, port, wait, **options):
        deadline = time.monotonic() + wait
        while True:
            try:
                socket.create_connection((host, port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise CommandError(f"the demo cloud does not answer on {host}:{port}") from None
                time.sleep(0.2)
        cloud = register_demo_cloud(host, port)
        self.stdout.write(f"demo cloud ready: {cloud.name} ({host}:{port})")
