"""Pairing pages (docs/pairing.md): `/pair/` pairs a machine by PIN and lists the user's paired machines;
`/agent/pair.sh` is the script the machine runs."""

from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render

from audit import record
from contexts import pairing
from contexts.forms_pairing import PairForm
from contexts.models import PairingRequest

PAIR_SCRIPT = Path(__file__).parent / "agent" / "pair.sh"


@login_required
def pair(request):
    form = PairForm(request.user, request.POST or None, initial={"profile": request.GET.get("profile")})
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            paired = pairing.claim(
                request.user,
                data["pin"],
                data["profile"],
                data["format"],
                address=request.META.get("REMOTE_ADDR"),
            )
        except pairing.PairingError as exc:
            form.add_error("pin", exc.message)
            status = exc.status
        else:
            record.pairing_claimed(request, paired)
            messages.success(
                request,
                f"Paired {paired.machine_name} ({paired.address or 'unknown address'}) with "
                f"{data['profile'].name} r{paired.revision.number} as {paired.format}.",
            )
            return redirect("pair")
    machines = (
        PairingRequest.objects.filter(user=request.user)
        .select_related("profile", "revision")
        .defer("revision__document")[:50]
    )
    ctx = {"form": form, "machines": machines, "portal_url": request.build_absolute_uri("/").rstrip("/")}
    return render(request, "contexts/pair.html", ctx, status=status)


def pair_script(request):
    response = HttpResponse(PAIR_SCRIPT.read_bytes(), content_type="text/x-shellscript; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="pair.sh"'
    return response
