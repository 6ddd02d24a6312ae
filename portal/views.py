from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.defaults import page_not_found
from rest_framework.authtoken.models import Token

from portal import health


def home(request):
    return render(request, "home.html")


def signup(request):
    if request.user.is_authenticated:
        return redirect("contexts:profile_list")
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("contexts:profile_list")
    return render(request, "registration/signup.html", {"form": form})


def health_page(request):
    database_ok, database = health.database_status()
    worker_ok, worker, detail = health.worker_status()
    if request.GET.get("format") == "json":
        status = 200 if database_ok and worker_ok else 503
        return JsonResponse({"web": "ok", "database": database, "worker": worker}, status=status)
    return render(
        request,
        "health.html",
        {
            "database_ok": database_ok,
            "database_status": database,
            "worker_ok": worker_ok,
            "worker_status": worker,
            "worker_detail": detail,
        },
    )


@never_cache
@login_required
def api_tokens(request):
    """Create (or replace) and revoke the user's REST API token. A new token is shown in this
    response only: it is not kept anywhere it could be shown again."""
    new_key = None
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "create":
        with transaction.atomic():
            Token.objects.filter(user=request.user).delete()
            new_key = Token.objects.create(user=request.user).key
    elif action == "revoke":
        Token.objects.filter(user=request.user).delete()
        messages.success(request, "Revoked your API token: it no longer works.")
        return redirect("api_tokens")
    token = Token.objects.filter(user=request.user).first()
    return render(request, "portal/api_tokens.html", {"token": token, "new_key": new_key})


def not_found(request, exception=None):
    """404s: JSON under /api/ (API clients read `detail`), the site's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)
