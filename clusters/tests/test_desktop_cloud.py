"""`make run` offers the desktop cloud once a base image exists (clusters/desktop.py)."""

import pytest
from django.core.management import call_command

from clusters.desktop import DESKTOP_CLOUD_NAME, register_desktop_cloud
from clusters.models import Cloud

pytestmark = pytest.mark.django_db


def options(tmp_path):
    return {"directory": str(tmp_path / "cloud"), "images": str(tmp_path / "images")}


def test_no_desktop_cloud_without_an_image(tmp_path):
    assert register_desktop_cloud(options(tmp_path)) is None
    assert not Cloud.objects.filter(name=DESKTOP_CLOUD_NAME).exists()


def test_an_image_brings_a_site_wide_cloud_with_both_formats_and_the_offerings(tmp_path):
    (tmp_path / "images").mkdir()
    for suffix in (".qcow2", ".vmlinuz", ".initrd"):
        (tmp_path / "images" / f"debian-12-context{suffix}").write_bytes(b"x")
    cloud = register_desktop_cloud(options(tmp_path))
    assert cloud.is_site_wide and cloud.driver == "qemu"
    images = {i.name: (i.provider_id, i.format) for i in cloud.images.all()}
    assert images == {
        "debian-12-context": ("debian-12-context", "cloud-init"),
        "debian-12-context (shell, no cloud-init)": ("debian-12-context+shell", "shell"),
    }
    sizes = {m.offering.name: m.size_id for m in cloud.size_mappings.all()}
    assert sizes == {"small": "q1.small", "medium": "q1.medium", "large": "q1.large"}
    assert register_desktop_cloud(options(tmp_path)).pk == cloud.pk  # again: the same cloud


def test_the_command_says_how_to_get_an_image(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PORTAL_IMAGE_DIR", str(tmp_path / "none"))
    call_command("setup_desktop_cloud")
    assert "make image" in capsys.readouterr().out


def test_a_user_adds_a_qemu_cloud_with_its_own_options_and_no_endpoint(alice_client):
    page = alice_client.get("/clouds/new/qemu/").content.decode()
    assert "Portal URL as seen by guests" in page and "Cluster network" in page
    assert 'name="host"' not in page
    answer = alice_client.post(
        "/clouds/new/qemu/",
        {"name": "my desktop", "param_directory": "qemu/mine", "param_subnet": "10.99.0.0/24",
         "param_portal_url": "http://10.0.2.2:8000", "api_concurrency": 10, "queue": "default"},
    )  # fmt: skip
    assert answer.status_code == 302, answer.content.decode()[:2000]
    cloud = Cloud.objects.get(name="my desktop")
    assert cloud.options["subnet"] == "10.99.0.0/24"
    assert cloud.options["portal_url"] == "http://10.0.2.2:8000"
