"""Creating profiles and their revisions: the one place that validates and seals documents."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.text import slugify

from contexts import secrets
from contexts.document import DocumentInvalid, ensure_valid
from contexts.models import Profile, ProfileRevision, Tag


def create_profile(
    owner,
    name: str,
    document: dict,
    *,
    description="",
    visibility="private",
    tags=(),
    forked_from=None,
    message="Created",
) -> Profile:
    ensure_valid(document)
    with transaction.atomic():
        profile = Profile.objects.create(
            owner=owner,
            name=name,
            slug=_free_slug(owner, name),
            description=description,
            visibility=visibility,
            forked_from=forked_from,
        )
        set_tags(profile, tags)
        add_revision(profile, document, author=owner, message=message)
    return profile


def add_revision(profile: Profile, document: dict, *, author, message="") -> ProfileRevision:
    """Validate a plain document (secrets may be `REDACTED` = keep) and store it as a new revision."""
    ensure_valid(document)
    with transaction.atomic():
        locked = Profile.objects.select_for_update().get(pk=profile.pk)
        previous = locked.latest.document if locked.latest_id else None
        try:
            sealed = secrets.seal(document, previous)
        except secrets.SecretError as exc:
            raise DocumentInvalid([str(exc)]) from None
        number = (locked.revisions.aggregate(n=Max("number"))["n"] or 0) + 1
        revision = ProfileRevision.objects.create(
            profile=locked, number=number, document=sealed, author=author, message=message[:200]
        )
        Profile.objects.filter(pk=profile.pk).update(latest=revision)
    profile.latest = revision
    return revision


def set_tags(profile: Profile, names) -> None:
    clean = sorted({slugify(n)[:50] for n in names if slugify(n)})
    tags = []
    for name in clean:
        try:
            tag, _ = Tag.objects.get_or_create(name=name)
        except IntegrityError:  # created concurrently
            tag = Tag.objects.get(name=name)
        tags.append(tag)
    profile.tags.set(tags)


def _free_slug(owner, name: str) -> str:
    base = slugify(name)[:90] or "profile"
    taken = set(Profile.objects.filter(owner=owner, slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def plain_document(revision: ProfileRevision) -> dict:
    """The revision's document with secrets decrypted: for rendering only, never for display."""
    return secrets.unseal(revision.document)


def shown_document(revision: ProfileRevision) -> dict:
    """The revision's document as pages and the YAML editor show it: secrets redacted."""
    return secrets.redact(revision.document)


def render_revision(
    revision: ProfileRevision, variables: dict, fmt: str, *, provider: str | None = None, redact: bool = False
) -> bytes:
    """User-data for a stored revision: the one path the preview, the API and the command use.

    `provider` names a provider whose user-data limit applies (`contexts.render.limits`)."""
    from contexts.render import render
    from contexts.render.limits import limit_named

    limit = limit_named(provider)
    document = shown_document(revision) if redact else plain_document(revision)
    return render(
        document, variables, fmt, salt_seed=bytes.fromhex(revision.salt), limit=limit, redact=redact
    )
