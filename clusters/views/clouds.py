"""The cloud pages (docs/clouds.md, docs/gateway-agents.md): my clouds and the site-wide ones, add (driver first), edit,
delete, detail with images and "Test connection", and the queues page.

Every view reaches a cloud through `get_cloud_for_user`: another user's cloud is a 404; a
site-wide cloud is readable by everyone and changed by staff only. No page ever shows a
credential: the forms never fill them back and the templates only say which ones are set.
"""

import contextlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from kombu.exceptions import OperationalError

from audit import record
from clusters.access import get_cloud_for_user
from clusters.agents import agent_command, agent_toml
from clusters.forms import CloudForm, ImageForm
from clusters.models import Cloud
from clusters.providers import PROVIDERS, provider_class
from clusters.queues import queue_status, queues_in_use
from clusters.tasks import start_check
from portal.deletion import delete_or_explain
from portal.htmx import is_htmx


@login_required
def cloud_list(request):
    clouds = Cloud.objects.usable_by(request.user).annotate(image_count=Count("images"))
    own = [c for c in clouds if not c.is_site_wide]
    site_wide = [c for c in clouds if c.is_site_wide]
    return render(request, "clusters/cloud_list.html", {"own": own, "site_wide": site_wide})


def _summary(provider) -> str:
    """The first paragraph of a provider's docstring: what the driver is for."""
    return " ".join((provider.__doc__ or "").strip().split("\n\n")[0].split())


@login_required
def cloud_choose_driver(request):
    drivers = [(kind, label, _summary(provider_class(kind))) for kind, (label, _path) in PROVIDERS.items()]
    return render(request, "clusters/cloud_choose_driver.html", {"drivers": drivers})


@sensitive_post_parameters()
@login_required
def cloud_create(request, driver):
    if driver not in PROVIDERS:
        raise Http404("No such cloud driver.")
    form = CloudForm(request.POST if request.method == "POST" else None, driver=driver, user=request.user)
    if request.method == "POST" and form.is_valid():
        cloud = form.save()
        record.cloud_added(request, cloud)
        messages.success(request, f"Added the cloud {cloud.name}. Test the connection to see that it works.")
        return redirect(cloud)
    return render(request, "clusters/cloud_form.html", {"form": form, "driver_label": PROVIDERS[driver][0]})


@login_required
def cloud_detail(request, cloud_id):
    cloud = get_cloud_for_user(request, cloud_id)
    can_edit = cloud.can_edit(request.user)
    provider = provider_class(cloud.driver)
    stored = set(cloud.credential_names()) if can_edit else set()
    ctx = {
        "cloud": cloud,
        "can_edit": can_edit,
        "options": [(p.label, cloud.options.get(p.name, "")) for p in provider.parameters if not p.sensitive],
        "credentials": [
            (p.label, p.name in stored)
            for p in provider.parameters
            if p.sensitive and can_edit and not cloud.served_by_agent
        ],
        # How to run its agent: for the people who may change the cloud, who are the ones to run it.
        "agent": {"command": agent_command(cloud), "toml": agent_toml(cloud)}
        if cloud.served_by_agent and can_edit
        else None,
        "images": cloud.images.all(),
        "mappings": cloud.size_mappings.select_related("offering"),
        "image_form": ImageForm(cloud=cloud) if can_edit else None,
    }
    return render(request, "clusters/cloud_detail.html", ctx)


@sensitive_post_parameters()
@login_required
def cloud_edit(request, cloud_id):
    cloud = get_cloud_for_user(request, cloud_id, write=True)
    form = CloudForm(
        request.POST if request.method == "POST" else None,
        driver=cloud.driver,
        user=request.user,
        instance=cloud,
    )
    if request.method == "POST" and form.is_valid():
        form.save()
        record.cloud_edited(request, form)
        messages.success(request, f"Saved the cloud {cloud.name}.")
        return redirect(cloud)
    ctx = {"form": form, "cloud": cloud, "driver_label": PROVIDERS[cloud.driver][0]}
    return render(request, "clusters/cloud_form.html", ctx)


@login_required
def cloud_delete(request, cloud_id):
    cloud = get_cloud_for_user(request, cloud_id, write=True)
    if request.method == "POST":
        if not delete_or_explain(request, cloud, cloud.name):
            return redirect(cloud)
        record.cloud_deleted(request, cloud_id, cloud)
        messages.success(request, f"Deleted the cloud {cloud.name} and its images.")
        return redirect("clusters:cloud_list")
    return render(request, "clusters/cloud_delete.html", {"cloud": cloud})


@require_POST
@login_required
def cloud_check(request, cloud_id):
    """Queue a connection test on the cloud's queue. htmx gets the status partial, which polls
    `cloud_check_status` while the test is pending; a plain post goes back to the cloud's page."""
    cloud = get_cloud_for_user(request, cloud_id, write=True)
    with contextlib.suppress(OperationalError):  # the cloud shows the failure
        start_check(cloud)
    if is_htmx(request):
        return render(request, "clusters/partials/check_status.html", {"cloud": cloud})
    return redirect(cloud)


@never_cache
@login_required
def cloud_check_status(request, cloud_id):
    cloud = get_cloud_for_user(request, cloud_id)
    return render(request, "clusters/partials/check_status.html", {"cloud": cloud})


@never_cache
@login_required
def cloud_queue_status(request, cloud_id):
    cloud = get_cloud_for_user(request, cloud_id)
    workers = queue_status([cloud.queue])[cloud.queue]
    return render(request, "clusters/partials/queue_status.html", {"cloud": cloud, "workers": workers})


@login_required
def image_add(request, cloud_id):
    cloud = get_cloud_for_user(request, cloud_id, write=True)
    form = ImageForm(request.POST if request.method == "POST" else None, cloud=cloud)
    if request.method == "POST" and form.is_valid():
        image = form.save()
        messages.success(request, f"Added the image {image.name}.")
        return redirect(cloud)
    return render(request, "clusters/image_form.html", {"cloud": cloud, "form": form})


@require_POST
@login_required
def image_delete(request, cloud_id, image_id):
    cloud = get_cloud_for_user(request, cloud_id, write=True)
    image = get_object_or_404(cloud.images, pk=image_id)
    if delete_or_explain(request, image, f"The image {image.name}"):
        messages.success(request, f"Removed the image {image.name}.")
    return redirect(cloud)


@never_cache
@login_required
def queue_list(request):
    """Each queue the user's clouds use (every cloud's, for staff), with the workers serving it."""
    clouds = Cloud.objects.all() if request.user.is_staff else Cloud.objects.usable_by(request.user)
    status = queue_status(queues_in_use(clouds))
    clouds_by_queue = {}
    for cloud in clouds.order_by("name"):
        clouds_by_queue.setdefault(cloud.queue, []).append(cloud)
    rows = [(queue, workers, clouds_by_queue.get(queue, [])) for queue, workers in status.items()]
    return render(request, "clusters/queue_list.html", {"rows": rows})
