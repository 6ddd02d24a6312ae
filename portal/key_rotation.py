"""Re-encrypting every stored secret with the first key of PORTAL_ENCRYPTION_KEY, so that the old
keys can be dropped (`manage.py rotate_encryption_key`, docs/security.md, "Rotating the key").

Every field that holds a Fernet token of the portal's keys is listed here; a new encrypted field
must be added too (portal/tests/test_key_rotation.py finds tokens in fields that are not).
"""

from django.apps import apps
from django.db import transaction

from contexts.secrets import SEALED, secret_slots
from portal import crypto

# Text fields holding one token ("" when there is none).
TOKEN_FIELDS = [
    ("clusters.Cloud", "credentials"),  # the driver's credentials, a JSON object
    ("clusters.Cloud", "message_key"),  # the key that seals its create messages (agents hold it)
    ("clusters.Cluster", "secret"),  # {{ cluster.secret }}
]
# JSON documents whose secret slots hold {"$secret": token} (contexts.secrets).
SEALED_DOCUMENT_FIELDS = [("contexts.ProfileRevision", "document")]
BATCH = 500


class RotationError(Exception):
    pass


def _rotated_token(token: str, where: str) -> str:
    try:
        return crypto.rotate(token)
    except crypto.DecryptionError:
        raise RotationError(
            f"{where} cannot be decrypted with any configured key; nothing was changed"
        ) from None


def _token(value: str, where: str) -> str | None:
    return _rotated_token(value, where) if value else None


def _sealed_document(document, where: str):
    sealed = [
        (c, k, name)
        for c, k, name in secret_slots(document)
        if isinstance(c[k], dict) and set(c[k]) == {SEALED}
    ]
    for container, key, name in sealed:
        container[key] = {SEALED: _rotated_token(container[key][SEALED], f"{where} ({name})")}
    return document if sealed else None


def rotate_all() -> dict[str, int]:
    """Re-encrypt everything in one transaction: all secrets move to the first key, or none does.
    Answers how many values of each field were re-encrypted."""
    fields = [(*place, _token) for place in TOKEN_FIELDS] + [
        (*place, _sealed_document) for place in SEALED_DOCUMENT_FIELDS
    ]
    with transaction.atomic():
        return {
            f"{label}.{field}": _rotate_field(apps.get_model(label), field, rotate)
            for label, field, rotate in fields
        }


def _rotate_field(model, field: str, rotate) -> int:
    changed, count = [], 0
    for pk, value in model.objects.order_by("pk").values_list("pk", field).iterator(chunk_size=BATCH):
        new = rotate(value, f"{model._meta.label} {pk}, {field}")
        if new is None:
            continue
        changed.append(model(pk=pk, **{field: new}))
        count += 1
        if len(changed) >= BATCH:
            model.objects.bulk_update(changed, [field])
            changed = []
    if changed:
        model.objects.bulk_update(changed, [field])
    return count
