"""A cloud's user-data limit is declared once, on its provider class, and that is the limit the
launch checks, the preview, the render API and `render_profile` apply (docs/user-data.md)."""

from io import StringIO
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from clusters.definitions import definition_problems
from clusters.models import ClusterDefinition, Image
from clusters.providers import PROVIDERS, provider_class
from clusters.providers.ec2 import EC2Provider
from clusters.tests.cloud_helpers import make_cloud
from clusters.tests.definition_helpers import make_offering, make_profile
from contexts.forms import PreviewForm
from contexts.render import RenderError
from contexts.render.limits import known_limits, limit_named

# About 3 KB of amiconfig: under every real provider's limit, over the small one below.
DOCUMENT = {"schema": 1, "files": [{"path": "/etc/mid", "content": "x" * 3000}]}
VARS = "\n".join(["cluster.name=demo", "role.name=node", "instance.index=0"])


class SmallEC2Provider(EC2Provider):
    """EC2 as if its clouds took 2 KiB of user-data."""

    user_data_limit = 2048


@pytest.fixture
def small_ec2(monkeypatch):
    label, _path = PROVIDERS["ec2"]
    monkeypatch.setitem(PROVIDERS, "ec2", (label, f"{__name__}.SmallEC2Provider"))


def test_the_known_limits_are_the_provider_classes():
    declared = {kind: provider_class(kind).user_data_limit for kind in PROVIDERS}
    assert declared == {"ec2": 16384, "cloudstack": 32768, "openstack": 65536, "libcloud": None, "qemu": None}
    assert {name: (limit.size, limit.label) for name, limit in known_limits().items()} == {
        kind: (size, provider_class(kind).label) for kind, size in declared.items() if size is not None
    }


def test_an_unknown_provider_names_the_known_ones():
    with pytest.raises(RenderError) as refused:
        limit_named("gce")
    assert str(refused.value) == "unknown provider 'gce'; choose one of ec2, cloudstack, openstack"


def test_the_preview_offers_each_provider_with_its_limit():
    assert PreviewForm().fields["provider"].choices == [
        ("", "none (no size limit)"),
        ("ec2", "Amazon EC2 or compatible (16 KiB)"),
        ("cloudstack", "Apache CloudStack (32 KiB)"),
        ("openstack", "OpenStack (64 KiB)"),
    ]


def _role(alice, profile):
    cloud = make_cloud(alice, name="My EC2")
    image = Image.objects.create(cloud=cloud, name="CernVM", provider_id="ami-1", format="amiconfig")
    return {"name": "node", "profile": profile, "pinned_revision": None, "offering": make_offering("small"),
            "size": "", "image": image, "count": 1, "min_count": 0, "max_count": None, "depends_on": []}  # fmt: skip


@pytest.mark.django_db
def test_a_provider_class_with_a_smaller_limit_changes_the_launch_check(alice):
    profile = make_profile(alice, "mid", document=DOCUMENT)
    role = _role(alice, profile)
    definition = ClusterDefinition(owner=alice, name="mid")
    assert definition_problems(definition, [role]) == []

    with pytest.MonkeyPatch.context() as patch:
        label, _path = PROVIDERS["ec2"]
        patch.setitem(PROVIDERS, "ec2", (label, f"{__name__}.SmallEC2Provider"))
        [found] = definition_problems(definition, [role])

    assert found.startswith("role 'node': its user-data cannot be made for CernVM on My EC2: user-data is ")
    assert found.endswith(" bytes; the ec2 limit is 2,048 bytes")


@pytest.mark.django_db
def test_a_provider_class_with_a_smaller_limit_changes_the_preview_and_the_render_api(
    alice, alice_client, small_ec2
):
    profile = make_profile(alice, "mid", document=DOCUMENT)

    html = alice_client.get(f"/profiles/{profile.pk}/?" + urlencode({"vars": VARS, "provider": "ec2"}))
    assert "Amazon EC2 or compatible (2 KiB)" in html.content.decode()
    assert "the ec2 limit is 2,048 bytes" in html.content.decode()

    query = urlencode([("format", "amiconfig"), ("provider", "ec2"), *(("var", v) for v in VARS.split("\n"))])
    answer = alice_client.get(f"/api/v1/profiles/{profile.pk}/render/?{query}")
    assert answer.status_code == 400
    assert answer.json()["detail"].endswith(" bytes; the ec2 limit is 2,048 bytes")

    with pytest.raises(CommandError, match=r"the ec2 limit is 2,048 bytes$"):
        call_command(
            "render_profile", str(profile.pk), "--format", "shell", "--provider", "ec2", stdout=StringIO()
        )
