"""What a launch may use of other people's profiles, said before anything is created.

A definition may be public and use profiles of its owner; whoever launches it gets user-data
rendered from those profiles. The rules (enforced when user-data is rendered, in
`clusters.launcher.launch_document`, and announced here):
- a private profile is launched only by its owner: anyone else's launch is refused;
- another owner's public profile launches without its secrets: passwords are left out (those
  accounts log in with SSH keys), and a secret all nodes share (a pool password) becomes one made
  for the launcher's cluster, so the pool stays password-protected without anyone learning the
  owner's.
"""

from __future__ import annotations

from clusters import userdata
from contexts import secrets


def is_foreign(profile, user) -> bool:
    return profile.owner_id != user.pk


def access_problem(role_name: str, profile, user) -> str | None:
    """Why `user` may not launch a role with `profile`, or None."""
    if is_foreign(profile, user) and not profile.is_public:
        owner = profile.owner.username
        return f"role {role_name}: the profile “{profile.name}” is {owner}'s and private: only {owner} can launch it"
    return None


def secret_notice(role_name: str, revision, user) -> str | None:
    """What a launch by `user` leaves out of the role's user-data, in words; None when nothing."""
    profile = revision.profile
    if not is_foreign(profile, user):
        return None
    names = sorted(secrets.secrets_set(revision.document))
    if not names:
        return None
    dropped = [secrets.describe(n) for n in names if not secrets.stand_in_words(n)]
    parts = []
    if dropped:
        parts.append(f"{', '.join(dropped)} {'is' if len(dropped) == 1 else 'are'} left out (SSH keys only)")
    parts += [
        f"{secrets.describe(n)} is left out and replaced by {secrets.stand_in_words(n)} made for this cluster"
        for n in names
        if secrets.stand_in_words(n)
    ]
    owner = profile.owner.username
    return (
        f"role {role_name}: the profile “{profile.name}” is {owner}'s, so its secrets are left out: "
        + "; ".join(parts)
    )


def render_problem(
    revision, owner, *, role_name, count, needs, image, cloud, cluster_name="cluster"
) -> str | None:
    """Why a role's instances could not get user-data for `image` on `cloud`, or None: its last
    instance rendered as `owner`'s launch would, with the longest addresses of the roles it needs."""
    found = userdata.sample_problem(
        revision,
        owner,
        role_name=role_name,
        count=count,
        needs=needs,
        fmt=image.format,
        driver=cloud.driver,
        cluster_name=cluster_name,
    )
    return f"its user-data cannot be made for {image.name} on {cloud.name}: {found}" if found else None
