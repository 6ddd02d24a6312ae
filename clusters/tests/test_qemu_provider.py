"""The desktop cloud's provider without booting a guest: registry, sizes, images, the portal URL
guests are given, the seed and the network it describes, the VM folders it keeps."""

import json
import subprocess
from pathlib import Path

import pytest

from clusters.providers import DRIVER_CHOICES, CloudConfig, CloudError, NodeSpec, get_provider, qemu_vm
from clusters.providers.qemu import QemuProvider

IMAGE = "debian-12-context"


def provider(tmp_path: Path, **options) -> QemuProvider:
    defaults = {"directory": str(tmp_path / "cloud"), "images": str(tmp_path / "images")}
    return get_provider(CloudConfig(driver="qemu", options={**defaults, **options}))


def fake_image(tmp_path: Path, name: str = IMAGE) -> None:
    images = tmp_path / "images"
    images.mkdir(exist_ok=True)
    for suffix in (".qcow2", ".vmlinuz", ".initrd"):
        (images / f"{name}{suffix}").write_bytes(b"x")


def test_it_is_a_driver_choice_of_the_cloud_form():
    assert ("qemu", "Desktop cloud (QEMU on this machine)") in DRIVER_CHOICES


def test_sizes_are_vcpu_and_ram_presets(tmp_path):
    sizes = {s.id: (s.vcpus, s.ram_mb) for s in provider(tmp_path).list_sizes()}
    assert sizes["q1.small"] == (1, 1024)
    assert sizes["q1.medium"] == (2, 2048)


def test_images_are_the_base_images_with_a_kernel_and_initrd_beside_them(tmp_path):
    fake_image(tmp_path)
    (tmp_path / "images" / "no-kernel.qcow2").write_bytes(b"x")
    ids = [image.id for image in provider(tmp_path).list_images()]
    assert ids == [IMAGE, IMAGE + "+shell"]


def test_a_missing_image_is_a_permanent_error_that_says_how_to_build_one(tmp_path):
    with pytest.raises(CloudError) as raised:
        provider(tmp_path).create_node(NodeSpec(name="a", size_id="q1.small", image_id="nope"))
    assert raised.value.permanent
    assert "make image" in raised.value.message


def test_an_unknown_size_is_a_permanent_error(tmp_path):
    fake_image(tmp_path)
    with pytest.raises(CloudError) as raised:
        provider(tmp_path).create_node(NodeSpec(name="a", size_id="huge", image_id=IMAGE))
    assert raised.value.permanent and "q1.small" in raised.value.message


def test_a_bad_subnet_is_a_clear_error(tmp_path):
    with pytest.raises(CloudError, match="not an IPv4 subnet"):
        _ = provider(tmp_path, subnet="ten-dot-something").subnet


def test_guests_reach_a_portal_on_loopback_through_the_user_mode_networks_host_address():
    url = QemuProvider.guest_portal_url({}, "http://127.0.0.1:8000")
    assert url == "http://10.0.2.2:8000"
    assert QemuProvider.guest_portal_url({}, "https://portal.example.org/") == "https://portal.example.org/"


def test_the_clouds_option_sets_the_portal_url_guests_are_given():
    assert (
        QemuProvider.guest_portal_url({"portal_url": "http://192.0.2.1:80"}, "http://x")
        == "http://192.0.2.1:80"
    )


def test_each_vm_gets_its_own_address_macs_and_ssh_port(tmp_path):
    cloud = provider(tmp_path, subnet="10.88.0.0/24")
    first = cloud.reserve(NodeSpec(name="a", size_id="q1.small", image_id=IMAGE), ("q1.small", 1, 1024))
    second = cloud.reserve(NodeSpec(name="b", size_id="q1.small", image_id=IMAGE), ("q1.small", 1, 1024))
    assert (first["address"], second["address"]) == ("10.88.0.10", "10.88.0.11")
    assert first["cluster_mac"] == "52:54:0a:58:00:0a"
    assert first["user_mac"] != second["user_mac"]
    assert first["ssh_port"] != second["ssh_port"]


def test_the_network_config_matches_each_nic_by_the_mac_it_records():
    config = json.loads(qemu_vm.network_config("52:55:00:00:00:01", "52:54:0a:4d:00:0a", "10.77.0.10", 24))
    assert config["version"] == 2
    assert config["ethernets"]["outside"] == {
        "match": {"macaddress": "52:55:00:00:00:01"}, "set-name": "eth0", "dhcp4": True,
    }  # fmt: skip
    assert config["ethernets"]["cluster"]["addresses"] == ["10.77.0.10/24"]
    assert config["ethernets"]["cluster"]["match"] == {"macaddress": "52:54:0a:4d:00:0a"}


def test_the_seed_is_a_cidata_volume_with_user_data_meta_data_and_network_config(tmp_path):
    seed = tmp_path / "seed.iso"
    qemu_vm.write_seed(
        seed, user_data=b"#cloud-config\n", hostname="demo-master-0", instance_id="vm-1",
        files={"network-config": "version: 2\n"},
    )  # fmt: skip
    label = subprocess.run(["isoinfo", "-d", "-i", str(seed)], capture_output=True, text=True).stdout
    assert "Volume id: cidata" in label
    listing = subprocess.run(["isoinfo", "-J", "-f", "-i", str(seed)], capture_output=True, text=True).stdout
    assert sorted(listing.split()) == ["/meta-data", "/network-config", "/user-data"]
    meta = subprocess.run(
        ["isoinfo", "-J", "-x", "/meta-data", "-i", str(seed)], capture_output=True, text=True
    )
    assert "local-hostname: demo-master-0" in meta.stdout


def test_a_vm_whose_qemu_is_gone_lists_as_stopped_and_destroy_removes_its_folder(tmp_path):
    cloud = provider(tmp_path)
    spec = NodeSpec(name="a", size_id="q1.small", image_id=IMAGE, tags={"context-portal-instance": "t-1"})
    vm = cloud.reserve(spec, ("q1.small", 1, 1024))
    vm["created"] = 0  # long ago: not starting any more
    (Path(vm["folder"]) / "vm.json").write_text(json.dumps(vm))
    (node,) = cloud.list_nodes()
    assert (node.state, node.private_ips, node.tags) == ("stopped", [vm["address"]], spec.tags)
    assert cloud.find_tagged("context-portal-instance", ["t-1"]) == [node]
    cloud.destroy_node(node.id)
    assert cloud.list_nodes() == []
    assert not Path(vm["folder"]).exists()
    cloud.destroy_node(node.id)  # already gone: not an error
