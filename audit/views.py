"""The audit pages (docs/audit.md): the records and the instances' address history, each with a CSV
export of what its filters select. Owners see their own, staff everything; nothing here changes a
row (GET only)."""

from __future__ import annotations

import csv
from datetime import UTC

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from audit.forms import AddressFilterForm, RecordFilterForm
from audit.models import AuditRecord, InstanceAddress

PER_PAGE = 100
RECORD_HEADER = ["time", "user", "address", "action", "object type", "object id", "object name", "summary"]
ADDRESS_HEADER = ["address", "kind", "mac", "node id", "instance", "cluster", "owner", "cloud",
                  "seen from", "seen until"]  # fmt: skip


def _filtered(request, form_class, rows):
    form = form_class(request.GET)
    return form, (form.filter(rows) if form.is_valid() else rows.none())


@require_safe
@login_required
def record_list(request):
    form, records = _filtered(request, RecordFilterForm, AuditRecord.objects.visible_to(request.user))
    page = Paginator(records, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "audit/record_list.html", {"form": form, "page": page})


@require_safe
@login_required
def address_list(request):
    form, rows = _filtered(request, AddressFilterForm, InstanceAddress.objects.visible_to(request.user))
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "audit/address_list.html", {"form": form, "page": page})


@require_safe
@login_required
def record_csv(request):
    form, records = _filtered(request, RecordFilterForm, AuditRecord.objects.visible_to(request.user))
    if not form.is_valid():
        return _refused(form)
    rows = (
        [_time(r.created), r.username, r.address or "", r.action, r.object_type, r.object_id, r.object_name,
         r.summary]
        for r in records.iterator()
    )  # fmt: skip
    return _csv_response("audit-records", RECORD_HEADER, rows)


@require_safe
@login_required
def address_csv(request):
    form, held = _filtered(request, AddressFilterForm, InstanceAddress.objects.visible_to(request.user))
    if not form.is_valid():
        return _refused(form)
    rows = (
        [h.address, h.kind, h.mac, h.node_id, h.instance_name, h.cluster_name, h.owner_username, h.cloud_name,
         _time(h.seen_from), _time(h.seen_until)]
        for h in held.iterator()
    )  # fmt: skip
    return _csv_response("instance-addresses", ADDRESS_HEADER, rows)


def _time(moment) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else ""


def _refused(form) -> HttpResponse:
    problems = [f"{name}: {error}" if name != "__all__" else error
                for name, errors in form.errors.items() for error in errors]  # fmt: skip
    return HttpResponse("Not exported: " + "; ".join(problems) + "\n", status=400, content_type="text/plain")


class _Echo:
    def write(self, value):
        return value


def _cell(value) -> str:
    """A spreadsheet runs a cell that starts with = + - or @ as a formula; names are the users', so
    such a cell is written with a leading apostrophe, which spreadsheets show as text."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _csv_response(name: str, header: list[str], rows) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    lines = (writer.writerow([_cell(v) for v in row]) for row in rows)
    response = StreamingHttpResponse(
        (line for part in ([writer.writerow(header)], lines) for line in part), content_type="text/csv"
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response
