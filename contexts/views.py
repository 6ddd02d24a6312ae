"""The profile pages (docs/profiles.md): list, create, detail with preview, editor, YAML, history, delete.

Every view reaches a profile through `get_profile_for_user`: a private profile is a 404 to
everyone but its owner, and only the owner may change a profile, public or not.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header, urlencode
from django.views.decorators.cache import never_cache

from contexts.access import get_profile_for_user
from contexts.diff import revision_diff
from contexts.document import DocumentInvalid, dump_yaml
from contexts.forms import ProfileCreateForm, ProfileEditor, ProfileMetaForm, YamlForm
from contexts.models import Profile, Visibility
from contexts.preview import preview_form, render_output, render_outputs
from contexts.profiles import add_revision, shown_document
from contexts.render import FORMATS
from portal.deletion import delete_or_explain


def _save_revision(request, profile, document, message) -> list[str]:
    """Store `document` as the next revision; the problems that stopped it, [] when saved."""
    if document == shown_document(profile.latest):
        messages.info(request, "Nothing changed, so no new revision was made.")
        return []
    try:
        revision = add_revision(profile, document, author=request.user, message=message)
    except DocumentInvalid as exc:
        return exc.messages
    messages.success(request, f"Saved revision {revision.number}.")
    return []


@login_required
def profile_list(request):
    public = request.GET.get("show") == "public"
    if public:
        profiles = Profile.objects.filter(visibility=Visibility.PUBLIC).exclude(owner=request.user)
    else:
        profiles = Profile.objects.filter(owner=request.user)
    profiles = profiles.select_related("owner", "latest").defer("latest__document").prefetch_related("tags")
    page = Paginator(profiles, 25).get_page(request.GET.get("page"))
    return render(request, "contexts/profile_list.html", {"page": page, "public": public})


@login_required
def profile_create(request):
    form = ProfileCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        profile = form.create(request.user)
        messages.success(request, f"Created {profile.name}. Describe the machine in the sections below.")
        return redirect("contexts:profile_edit", profile.pk)
    return render(request, "contexts/profile_create.html", {"form": form})


@login_required
def profile_detail(request, profile_id):
    profile = get_profile_for_user(request, profile_id)
    revision = profile.latest
    document = shown_document(revision)
    form = preview_form(request.GET, document)
    is_owner = profile.owner_id == request.user.id
    ctx = {
        "profile": profile,
        "revision": revision,
        "yaml": dump_yaml(document),
        "form": form,
        "is_owner": is_owner,
    }
    if form.is_valid():
        query = urlencode(
            {"vars": "\n".join(form.cleaned_data["vars"]), "provider": form.cleaned_data["provider"]}
        )
        ctx.update(outputs=render_outputs(revision, form, download_redacted=not is_owner), query=query)
    return render(request, "contexts/profile_detail.html", ctx)


def _user_data(request, profile, fmt, *, redact, as_attachment):
    if fmt not in FORMATS:
        raise Http404("No such user-data format.")
    form = preview_form(request.GET, shown_document(profile.latest))
    if not form.is_valid():
        problems = "; ".join(e for errors in form.errors.values() for e in errors)
        return HttpResponse(f"Bad variables: {problems}\n", status=400, content_type="text/plain")
    output = render_output(profile.latest, form, fmt, redact=redact)
    if output.error:
        return HttpResponse(f"Cannot render {fmt}: {output.error}\n", status=400, content_type="text/plain")
    response = HttpResponse(output.data, content_type=output.content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment, output.filename(profile, profile.latest)
    )
    return response


@never_cache
@login_required
def profile_preview(request, profile_id, fmt):
    """The redacted user-data as plain text: what the preview tab shows."""
    profile = get_profile_for_user(request, profile_id)
    return _user_data(request, profile, fmt, redact=True, as_attachment=False)


@never_cache
@login_required
def profile_download(request, profile_id, fmt):
    """The real user-data for the owner (secrets hashed in), the redacted one for anyone else."""
    profile = get_profile_for_user(request, profile_id)
    redact = profile.owner_id != request.user.id
    return _user_data(request, profile, fmt, redact=redact, as_attachment=True)


@login_required
def profile_edit(request, profile_id):
    profile = get_profile_for_user(request, profile_id, write=True)
    editor = ProfileEditor(shown_document(profile.latest), request.POST or None)
    if request.method == "POST" and editor.is_valid():
        editor.problems = _save_revision(request, profile, editor.document(), editor.message)
        if not editor.problems:
            return redirect(profile)
    return render(request, "contexts/profile_edit.html", {"profile": profile, "editor": editor})


@login_required
def profile_yaml(request, profile_id):
    profile = get_profile_for_user(request, profile_id, write=True)
    form = YamlForm(request.POST or None, initial={"document": dump_yaml(shown_document(profile.latest))})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        problems = _save_revision(request, profile, data["document"], data["message"])
        if not problems:
            return redirect(profile)
        form.add_error(None, problems)
    return render(request, "contexts/profile_yaml.html", {"profile": profile, "form": form})


@login_required
def profile_settings(request, profile_id):
    profile = get_profile_for_user(request, profile_id, write=True)
    form = ProfileMetaForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Saved the profile's settings.")
        return redirect(profile)
    return render(request, "contexts/profile_settings.html", {"profile": profile, "form": form})


@login_required
def profile_history(request, profile_id):
    profile = get_profile_for_user(request, profile_id)
    revisions = profile.revisions.select_related("author").defer("document")
    page = Paginator(revisions, 50).get_page(request.GET.get("page"))
    return render(request, "contexts/profile_history.html", {"profile": profile, "page": page})


def _revision_number(query, name, default) -> int:
    value = query.get(name, default)
    if not str(value).isdigit():
        raise Http404("Revision numbers are whole numbers.")
    return int(value)


@login_required
def profile_diff(request, profile_id):
    profile = get_profile_for_user(request, profile_id)
    latest = profile.latest.number
    numbers = sorted(
        {_revision_number(request.GET, "a", max(latest - 1, 1)), _revision_number(request.GET, "b", latest)}
    )
    older = get_object_or_404(profile.revisions, number=numbers[0])
    newer = get_object_or_404(profile.revisions, number=numbers[-1])
    ctx = {"profile": profile, "older": older, "newer": newer, "lines": revision_diff(older, newer)}
    return render(request, "contexts/profile_diff.html", ctx)


@login_required
def profile_delete(request, profile_id):
    profile = get_profile_for_user(request, profile_id, write=True)
    if request.method == "POST":
        if not delete_or_explain(request, profile, profile.name):
            return redirect(profile)
        messages.success(request, f"Deleted the profile {profile.name} and its history.")
        return redirect("contexts:profile_list")
    return render(request, "contexts/profile_delete.html", {"profile": profile})
