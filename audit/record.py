"""One function per kind of event the audit trail keeps (docs/audit.md). The portal calls each in
one line, where the action has just succeeded; logins come through Django's signals (audit.apps).

Each record says who (the request's user), when, from which address (audit.client), what (the
object's type, id and name) and, in plain words, what happened. Credentials are never recorded:
a cloud's record says that they changed, never what they are."""

from __future__ import annotations

from django.db import transaction

from audit.client import client_address
from audit.models import Action, AuditRecord


def _user(request):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _write(
    request, action: str, summary: str, *, obj=None, object_type="", owner=None, **fields
) -> AuditRecord:
    user = fields.pop("user", None) or _user(request)
    if obj is not None:
        fields.setdefault("object_id", str(obj.pk))
        fields.setdefault("object_name", str(obj)[:200])
    return AuditRecord.objects.create(
        user=user,
        username=fields.pop("username", None) or (user.get_username() if user else ""),
        owner=owner,
        address=client_address(request),
        action=action,
        object_type=object_type,
        summary=summary,
        **fields,
    )


# ---------------------------------------------------------------------------- clusters


def _roles(cluster) -> str:
    return ", ".join(f"{role['name']} ×{role['count']}" for role in cluster.snapshot["roles"])


def launch(request, cluster) -> None:
    count = sum(role["count"] for role in cluster.snapshot["roles"])
    origin = f" from definition {cluster.definition.name}" if cluster.definition_id else ""
    summary = f"launched cluster {cluster.name}{origin}: {count} instances ({_roles(cluster)})"
    _write(request, Action.LAUNCH, summary, obj=cluster, object_type="cluster", owner=cluster.owner)


def scale(request, cluster, role: str, count: int) -> None:
    summary = f"scaled role {role} of cluster {cluster.name} to {count} instances"
    _write(request, Action.SCALE, summary, obj=cluster, object_type="cluster", owner=cluster.owner)


def terminate(request, cluster) -> None:
    summary = f"terminated cluster {cluster.name}"
    _write(request, Action.TERMINATE, summary, obj=cluster, object_type="cluster", owner=cluster.owner)


def retry(request, cluster, count: int, *, latest: bool) -> None:
    revisions = "their roles' latest profile revisions" if latest else "the revisions they were launched with"
    summary = f"retried {count} failed instances of cluster {cluster.name} with {revisions}"
    _write(request, Action.RETRY, summary, obj=cluster, object_type="cluster", owner=cluster.owner)


def budget(request, cluster) -> None:
    from clusters.costs import describe_budget

    summary = f"set the budget of cluster {cluster.name}: {describe_budget(cluster.budget_per_day, cluster.budget_total)}"
    _write(request, Action.BUDGET, summary, obj=cluster, object_type="cluster", owner=cluster.owner)


def instance_addresses(instances) -> None:
    """The instances' addresses may have changed: bring their address history in line once the
    change is committed (audit.history), in its own short transaction, so the monitor's stays short."""
    ids = [instance.pk for instance in instances]
    if ids:
        from audit import history

        transaction.on_commit(lambda: history.sync(ids))


# ---------------------------------------------------------------------------- pairing


def pairing_requested(request, pairing_request) -> None:
    """A machine asked for a PIN: nobody is logged in, the address is the machine's."""
    summary = f"a machine asked for a pairing PIN ({pairing_request.requested_format or 'any format'})"
    _write(request, Action.PAIRING_REQUEST, summary, obj=pairing_request, object_type="pairing",
           object_name=f"PIN request {pairing_request.pk}")  # fmt: skip


def pairing_claimed(request, pairing_request) -> None:
    summary = (
        f"paired machine {pairing_request.machine_name} ({pairing_request.address or 'unknown address'}) with "
        f"profile {pairing_request.profile} r{pairing_request.revision.number} as {pairing_request.format}"
    )
    _write(request, Action.PAIRING_CLAIM, summary, obj=pairing_request, object_type="pairing",
           object_name=pairing_request.machine_name[:200], owner=_user(request))  # fmt: skip


# ---------------------------------------------------------------------------- clouds


def _cloud_words(cloud) -> str:
    return f"{cloud.driver}, {'site-wide' if cloud.owner_id is None else 'own'}"


def cloud_added(request, cloud) -> None:
    summary = f"added cloud {cloud.name} ({_cloud_words(cloud)})"
    _write(request, Action.CLOUD_CREATE, summary, obj=cloud, object_type="cloud", owner=cloud.owner)


def cloud_edited(request, form) -> None:
    """`form`: the saved CloudForm. Only the names of changed fields are recorded, never values."""
    from clusters.forms import PARAM_PREFIX

    cloud, sensitive = form.instance, {PARAM_PREFIX + p.name for p in form.provider.parameters if p.sensitive}
    changed = [name for name in form.changed_data if name not in sensitive]
    credentials = any(name in sensitive for name in form.changed_data)
    words = [str(form.fields[name].label or name).lower() for name in changed]
    words += ["credentials"] if credentials else []
    summary = f"edited cloud {cloud.name}: changed {', '.join(words) or 'nothing'}"
    action = Action.CLOUD_CREDENTIALS if credentials else Action.CLOUD_EDIT
    _write(request, action, summary, obj=cloud, object_type="cloud", owner=cloud.owner)


def cloud_deleted(request, cloud_id: int, cloud) -> None:
    """`cloud_id`: its id, which Django forgets once the row is deleted."""
    summary = f"deleted cloud {cloud.name} ({_cloud_words(cloud)})"
    _write(request, Action.CLOUD_DELETE, summary, obj=cloud, object_type="cloud", object_id=str(cloud_id),
           owner=cloud.owner)  # fmt: skip


# ---------------------------------------------------------------------------- logins (signals)


def login_succeeded(sender, request, user, **kwargs) -> None:
    _write(request, Action.LOGIN, f"{user.get_username()} logged in", obj=user, object_type="user",
           user=user, owner=user)  # fmt: skip


def login_failed(sender, credentials, request=None, **kwargs) -> None:
    """A wrong password, an unknown account or a login refused while throttled. The name tried is
    recorded (the password never: Django has masked it already, and it is not read here)."""
    from django.contrib.auth import get_user_model

    model = get_user_model()
    tried = str(credentials.get(model.USERNAME_FIELD) or credentials.get("username") or "")[:150]
    account = model._default_manager.filter(**{model.USERNAME_FIELD: tried}).first() if tried else None
    summary = f"failed login as {tried or '(no name)'}" + ("" if account else " (no such account)")
    _write(request, Action.LOGIN_FAILED, summary, object_type="user", object_id=str(account.pk) if account else "",
           object_name=tried, username=tried, owner=account)  # fmt: skip
