from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.http import JsonResponse
from django.shortcuts import redirect, render

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
