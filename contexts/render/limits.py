"""The user-data size limits that rendering knows by provider name (docs/user-data.md).

How many bytes of user-data a cloud takes is a fact about its provider, so it is declared once, on
the provider class (`CloudProvider.user_data_limit` in the clusters app). The profiles app never
imports clusters: the clusters app sets `source` when it starts (clusters.apps), and what offers a
provider by name (the preview's choice, the render API's and `render_profile`'s `provider`) asks
`known_limits` here. Launches pass their cloud's limit to `render` directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from contexts.render.common import RenderError


@dataclass(frozen=True)
class UserDataLimit:
    """At most `size` bytes of user-data; `name` is how messages say whose ("the ec2 limit")."""

    name: str
    size: int
    label: str = ""  # what a choice of provider shows

    @property
    def choice_label(self) -> str:
        size = f"{self.size // 1024} KiB" if self.size % 1024 == 0 else f"{self.size:,} bytes"
        return f"{self.label or self.name} ({size})"


def _none() -> Iterable[UserDataLimit]:
    return ()


# The limits of the providers there are, read afresh on each call; set by the clusters app at start.
source: Callable[[], Iterable[UserDataLimit]] = _none


def known_limits() -> dict[str, UserDataLimit]:
    """{provider name: its limit}, in the order the providers are registered."""
    return {limit.name: limit for limit in source()}


def limit_named(provider: str | None) -> UserDataLimit | None:
    """The limit of the provider called `provider`; None for no provider; a RenderError if unknown."""
    if provider is None:
        return None
    known = known_limits()
    if provider not in known:
        raise RenderError(f"unknown provider {provider!r}; choose one of {', '.join(known)}")
    return known[provider]
