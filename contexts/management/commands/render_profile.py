"""`manage.py render_profile FILE.yaml|PROFILE_ID --format F [--var dotted.key=value ...]` (docs/user-data.md).

Prints the user-data to stdout; invalid input exits 2 with a one-line error on stderr.
"""

import hashlib
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from contexts.document import DocumentInvalid, ensure_valid, parse_yaml
from contexts.models import Profile, ProfileRevision
from contexts.profiles import render_revision
from contexts.render import FORMATS, RenderError, render
from contexts.render.limits import known_limits, limit_named
from contexts.secrets import SecretError
from contexts.templating import VariableError, parse_variables, with_preview_defaults


def _variables(pairs: list[str], document) -> dict:
    """The `--var` values, and the preview's defaults for the others (docs/templates.md)."""
    return parse_variables(with_preview_defaults(pairs, document, settings.PORTAL_URL))


def _fail(message: str) -> CommandError:
    return CommandError(" ".join(message.split()), returncode=2)


class Command(BaseCommand):
    help = "Render a profile (a YAML file or a stored profile's id) into user-data on stdout."

    def add_arguments(self, parser):
        parser.add_argument("source", help="a profile YAML file, or the id of a stored profile")
        parser.add_argument("--format", default="cloud-init", choices=FORMATS)
        parser.add_argument(
            "--var",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="a template variable, e.g. --var cluster.name=demo (repeatable)",
        )
        parser.add_argument(
            "--revision", type=int, help="revision number of a stored profile (default: latest)"
        )
        parser.add_argument(
            "--provider",
            choices=sorted(known_limits()),
            help="apply this provider's user-data size limit (gzip for cloud-init when over)",
        )
        parser.add_argument("--redact", action="store_true", help="hide secrets, as public previews do")

    def handle(self, source, format, var, revision, provider, redact, **options):
        try:
            if Path(source).is_file() or not source.isdigit():
                data = self._render_file(Path(source), var, format, provider, redact)
            else:
                stored = self._revision(int(source), revision)
                variables = _variables(var, stored.document)
                data = render_revision(stored, variables, format, provider=provider, redact=redact)
        except DocumentInvalid as exc:
            shown = exc.messages[:3]
            more = f" (and {len(exc.messages) - 3} more)" if len(exc.messages) > 3 else ""
            raise _fail("invalid profile: " + "; ".join(shown) + more) from None
        except (RenderError, VariableError, SecretError) as exc:
            raise _fail(str(exc)) from None
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()

    def _render_file(self, path: Path, pairs, fmt, provider, redact) -> bytes:
        try:
            raw = path.read_bytes()
            text = raw.decode("utf-8")
        except FileNotFoundError:
            raise _fail(f"no such file: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise _fail(f"cannot read {path}: {exc}") from None
        document = ensure_valid(parse_yaml(text))
        variables = _variables(pairs, document)
        # A file has no stored revision salt: derive one from its bytes, so one file always
        # renders to the same bytes.
        salt = hashlib.sha256(raw).digest()
        return render(document, variables, fmt, salt_seed=salt, limit=limit_named(provider), redact=redact)

    def _revision(self, profile_id: int, number: int | None) -> ProfileRevision:
        profile = Profile.objects.filter(pk=profile_id).select_related("latest").first()
        if profile is None:
            raise _fail(f"no profile with id {profile_id} (and no file of that name)")
        if number is None:
            if profile.latest is None:
                raise _fail(f"profile {profile_id} has no revision")
            return profile.latest
        found = profile.revisions.filter(number=number).first()
        if found is None:
            raise _fail(f"profile {profile_id} has no revision {number}")
        return found
