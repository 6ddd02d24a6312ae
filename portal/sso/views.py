"""The login button's views: start a login at the provider, take its answer, log out.

Every way a login can go wrong — the provider said no, the answer does not belong to this
browser's login (state, nonce), the provider cannot be reached — ends on one clear page with a
way back, never on a 500.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.shortcuts import redirect, render, resolve_url
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from portal.sso.backend import configured

logger = logging.getLogger(__name__)


class LoginView(auth_views.LoginView):
    """The local login form (for the admin and local accounts), with the provider's button."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs, sso_label=settings.OIDC_LOGIN_LABEL if configured() else "")


class StartLogin(OIDCAuthenticationRequestView):
    def get(self, request):
        if not configured():
            raise Http404("Institutional login is not configured.")
        return super().get(request)


class Callback(OIDCAuthenticationCallbackView):
    def get(self, request):
        if not configured():
            raise Http404("Institutional login is not configured.")
        try:
            return super().get(request)
        except SuspiciousOperation as error:  # an unknown state, a nonce or signature that does not match
            return failed(request, 400, "The provider's answer does not belong to a login started in this "
                          "browser, or did not verify.", error)  # fmt: skip
        except jwt.InvalidTokenError as error:  # expired, not yet valid, malformed
            return failed(request, 400, "The provider's ID token is not valid.", error)
        except (requests.RequestException, ValueError) as error:  # unreachable, an error status, not JSON
            return failed(request, 502, "The identity provider could not be reached or did not answer "
                          "as expected.", error)  # fmt: skip

    def login_failure(self):
        request = self.request
        if request.GET.get("error"):
            said = request.GET.get("error_description") or request.GET["error"]
            return failed(request, 403, f"The identity provider did not log you in: {said}.")
        if getattr(self, "user", None) is not None and not self.user.is_active:
            return failed(request, 403, "Your portal account is disabled; ask the portal's administrator.")
        if getattr(request, "sso_refusal", None):
            return failed(request, 403, request.sso_refusal)
        return failed(request, 400, "This login was not started here, or has already been used.")


def failed(request, status: int, reason: str, error: Exception | None = None):
    logger.warning("institutional login failed: %s%s", reason, f" ({error})" if error else "")
    context = {"reason": reason, "sso_label": settings.OIDC_LOGIN_LABEL}
    return render(request, "sso/failed.html", context, status=status)


class LogoutView(auth_views.LogoutView):
    """Ends the portal's session; with OIDC_OP_LOGOUT_ENDPOINT set, the provider's session too
    (OpenID Connect RP-Initiated Logout), for a person who logged in there."""

    def post(self, request, *args, **kwargs):
        id_token = request.session.get("oidc_id_token")
        response = super().post(request, *args, **kwargs)
        if not (id_token and configured() and settings.OIDC_OP_LOGOUT_ENDPOINT):
            return response
        back = request.build_absolute_uri(resolve_url(settings.LOGOUT_REDIRECT_URL))
        query = {"id_token_hint": id_token, "client_id": settings.OIDC_RP_CLIENT_ID,
                 "post_logout_redirect_uri": back}  # fmt: skip
        return redirect(f"{settings.OIDC_OP_LOGOUT_ENDPOINT}?{urlencode(query)}")
