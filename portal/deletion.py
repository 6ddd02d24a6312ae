"""Deleting what other things still use (a profile a cluster definition names, a cloud that
runs instances): say so on the page instead of failing."""

from django.contrib import messages
from django.db.models import ProtectedError


def delete_or_explain(request, obj, label: str) -> bool:
    """Delete `obj`; when something protects it, leave an error message naming what, and False."""
    try:
        obj.delete()
    except ProtectedError as exc:
        users = sorted({str(o) for o in exc.protected_objects})
        shown = ", ".join(users[:5]) + (f" and {len(users) - 5} more" if len(users) > 5 else "")
        messages.error(request, f"{label} is still used by {shown}: remove it from them first.")
        return False
    return True
