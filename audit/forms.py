"""The filters of the audit pages and their CSV exports (docs/audit.md): a date range, a user, an
address; the same form checks a page's query string and an export's."""

from __future__ import annotations

import ipaddress
from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone

from audit.models import Action


class AuditFilterForm(forms.Form):
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(
        required=False, label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"})
    )
    user = forms.CharField(required=False, max_length=150, help_text="A user name, exactly.")
    address = forms.CharField(required=False, max_length=45, help_text="An IPv4 or IPv6 address.")

    def clean_address(self):
        text = self.cleaned_data["address"].strip()
        if not text:
            return ""
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:
            raise forms.ValidationError(f"{text!r} is not an IPv4 or IPv6 address.") from None

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("The range ends before it starts.")
        return data

    def since(self) -> datetime | None:
        start = self.cleaned_data.get("start")
        return timezone.make_aware(datetime.combine(start, time.min)) if start else None

    def until(self) -> datetime | None:
        """The first moment after the range: its last day counts whole."""
        end = self.cleaned_data.get("end")
        return timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min)) if end else None

    def query_string(self) -> str:
        return self.data.urlencode() if hasattr(self.data, "urlencode") else ""


class RecordFilterForm(AuditFilterForm):
    action = forms.ChoiceField(required=False, choices=[("", "any")] + Action.choices)

    def filter(self, records):
        data = self.cleaned_data
        if self.since():
            records = records.filter(created__gte=self.since())
        if self.until():
            records = records.filter(created__lt=self.until())
        if data.get("user"):
            records = records.filter(username=data["user"])
        if data.get("address"):
            records = records.filter(address=data["address"])
        if data.get("action"):
            records = records.filter(action=data["action"])
        return records


class AddressFilterForm(AuditFilterForm):
    at = forms.DateTimeField(
        required=False,
        label="Held at",
        help_text="Only the addresses held at this moment.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def filter(self, rows):
        """The rows held at some time in the range (and at `at`), of the user, with the address."""
        data = self.cleaned_data
        if self.since():
            rows = rows.exclude(seen_until__lt=self.since())
        if self.until():
            rows = rows.filter(seen_from__lt=self.until())
        if data.get("at"):
            rows = rows.held_at(data["at"])
        if data.get("user"):
            rows = rows.filter(owner_username=data["user"])
        if data.get("address"):
            rows = rows.filter(address=data["address"])
        return rows
