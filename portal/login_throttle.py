"""Login throttling with django-axes, for the portal's login page and the admin's.

The rule: LOGIN_FAILURE_LIMIT wrong passwords (default 10) for one account, from any addresses,
lock that account; as many from one address, for any accounts, lock that address. A lock lasts
until the LOGIN_COOLOFF_MINUTES (default 15) after the failures that caused it have passed;
tries during a lock are refused without checking the password and do not make it longer. Other
accounts and addresses log in as usual meanwhile.

Axes keeps the failures in its AccessAttempt table (expired rows are deleted as logins happen);
the settings are the AXES_* ones in portal.settings.
"""

from __future__ import annotations

import math

from axes.backends import AxesStandaloneBackend
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_failure_limit
from django.http import HttpRequest
from django.shortcuts import render
from django.utils import timezone


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses locked accounts and addresses; the next backend checks the password.

    A login without a request (the test client's `login()`, a script) has no address, so only
    its account is checked: axes alone would refuse such a login outright."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        return super().authenticate(request or HttpRequest(), username, password, **kwargs)


def lockout_response(request, original_response=None, credentials=None):
    """The login page's answer while locked (AXES_LOCKOUT_CALLABLE): 429 with the time left."""
    seconds = max(1, math.ceil((_lock_ends(request, credentials) - timezone.now()).total_seconds()))
    context = {"minutes": math.ceil(seconds / 60), "login_url": request.path}
    response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


def _lock_ends(request, credentials):
    """When the failures still counting drop below the limit, for the account and the address.

    Each of axes' querysets (one per lockout parameter) holds the failures that count now; the
    newest ones that reach the limit keep it locked until the oldest of them ages out."""
    cool_off, limit = get_cool_off(request), get_failure_limit(request, credentials)
    handler = AxesProxyHandler.get_implementation()
    ends = []
    for attempts in handler.get_user_attempts(request, credentials):
        failures = 0
        for attempt_time, count in attempts.order_by("-attempt_time").values_list(
            "attempt_time", "failures_since_start"
        ):
            failures += count
            if failures >= limit:
                ends.append(attempt_time + cool_off)
                break
    return max(ends, default=timezone.now() + cool_off)
