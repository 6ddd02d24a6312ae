"""The user-data of one instance of a cluster: which document, which variables, which format.

One path for the launcher (a real instance) and for the checks made before a launch and when a
definition is saved (a sample instance of each role), so that what was checked is what launches.

- The document: the profile revision with its secrets only when the cluster's owner owns the
  profile; otherwise without them (clusters.preflight says what is left out).
- The host name: the profile's, or else the instance's name (`<cluster>-<role>-<index>`), so every
  VM of a cluster has a known name that resolves on it (the formats add it to /etc/hosts).
- The variables (docs/profiles.md): `roles.<name>.address(es)` of the roles it depends on are their running
  instances' addresses; `roles.<its own role>.address` is its own host name, as its address is
  not known before it exists (`addresses` lists only itself).
"""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings

from clusters.providers import PROVIDERS, provider_class
from contexts import secrets as profile_secrets
from contexts.profiles import plain_document
from contexts.render import RenderError, UserDataLimit, render
from contexts.secrets import SecretError
from contexts.templating import TemplateProblem, evaluate

# Stand-ins of the right size for checks before a launch: the longest IPv4 address, and a
# check-in token as long as real ones (secrets.token_urlsafe(32)).
SAMPLE_ADDRESS = "10.255.255.254"
SAMPLE_TOKEN = "sample-instance-token-of-forty-three-chars-"  # noqa: S105 (a stand-in)


def dns_label(text: str) -> str:
    """`text` as a host name label: lower-case letters, digits and dashes, at most 63."""
    label = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return label[:63].strip("-") or "cluster"


def document_for(revision, owner, cluster_secret: str) -> dict:
    """The document `owner`'s cluster renders `revision` from."""
    if revision.profile.owner_id == owner.pk:
        return plain_document(revision)
    return profile_secrets.without_secrets(
        revision.document, stand_in=lambda text: shared_secret(cluster_secret, text)
    )


def shared_secret(cluster_secret: str, text: str) -> str:
    """A secret all nodes of a cluster share (a pool password), for a cluster that may not use its
    profiles' own: the same for every instance (and scale-up) of the cluster, unknown outside it."""
    return hmac.new(cluster_secret.encode(), text.encode(), hashlib.sha256).hexdigest()[:32]


def variables(
    cluster: dict,
    role_name: str,
    index: int,
    instance_name: str,
    token: str,
    addresses: dict,
    portal_url: str = "",
) -> dict:
    """The template variables of an instance; `cluster` = {"name", "id", "secret"}, `addresses` =
    {role: [addresses]} of the roles it may see (its own role is set by `render_instance`);
    `portal_url` is the portal as the instance's cloud lets it reach it (guest_portal_url)."""
    return {
        "cluster": dict(cluster),
        "role": {"name": role_name},
        "instance": {"index": index, "name": instance_name, "token": token},
        "roles": {
            name: {"addresses": list(found), "address": found[0]}
            for name, found in addresses.items()
            if found
        },
        "portal": {"url": portal_url or settings.PORTAL_URL},
    }


def guest_portal_url(driver: str, options: dict) -> str:
    """The portal's URL as VMs of a cloud with this driver and options reach it."""
    if driver not in PROVIDERS:
        return settings.PORTAL_URL
    return provider_class(driver).guest_portal_url(options or {}, settings.PORTAL_URL)


def user_data_limit(driver: str) -> UserDataLimit | None:
    """The limit that `driver`'s provider class declares on user-data, or None when it has none."""
    if driver not in PROVIDERS:
        return None
    cls = provider_class(driver)
    return None if cls.user_data_limit is None else UserDataLimit(cls.kind, cls.user_data_limit, cls.label)


def user_data_limits() -> list[UserDataLimit]:
    """The limits of every registered provider that has one, in the registry's order."""
    return [limit for limit in map(user_data_limit, PROVIDERS) if limit is not None]


def render_instance(document: dict, values: dict, *, fmt: str, driver: str, salt_seed: bytes) -> bytes:
    """The user-data of an instance, for the image's format and within the cloud's limit."""
    if "hostname" not in document:
        document = {**document, "hostname": values["instance"]["name"]}
    role_name = values["role"]["name"]
    others = {name: role for name, role in values["roles"].items() if name != role_name}
    try:
        own_name = evaluate(document["hostname"], {**values, "roles": others}, "hostname")
    except TemplateProblem as exc:
        raise RenderError(str(exc)) from None
    values = {**values, "roles": {**others, role_name: {"addresses": [own_name], "address": own_name}}}
    checkin = {
        "url": (values.get("portal", {}).get("url") or settings.PORTAL_URL).rstrip("/") + "/api/v1/instance/",
        "token": values["instance"]["token"],
    }
    limit = user_data_limit(driver)
    return render(document, values, fmt, salt_seed=salt_seed, limit=limit, checkin=checkin)


def sample_problem(
    revision,
    owner,
    *,
    role_name: str,
    count: int,
    needs: dict[str, int],
    fmt: str,
    driver: str,
    cluster_name: str = "cluster",
) -> str | None:
    """Why the last instance of a role could not get user-data, or None: rendered as a launch by
    `owner` would, with the longest addresses for every instance of the roles it `needs`."""
    try:
        document = document_for(revision, owner, "sample-cluster-secret")
    except SecretError as exc:
        return f"its profile's secrets cannot be read ({exc})"
    index = max(count - 1, 0)
    name = dns_label(f"{cluster_name}-{role_name}-{index}")
    addresses = {other: [SAMPLE_ADDRESS] * max(n, 1) for other, n in needs.items()}
    values = variables(
        {"name": cluster_name, "id": 1, "secret": "sample-cluster-secret"},
        role_name,
        index,
        name,
        SAMPLE_TOKEN,
        addresses,
    )
    try:
        render_instance(document, values, fmt=fmt, driver=driver, salt_seed=bytes.fromhex(revision.salt))
    except RenderError as exc:
        return str(exc)
    return None
