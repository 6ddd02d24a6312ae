"""The registry of cloud drivers: kinds, declared parameters, and libcloud kept inside it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from clusters.providers import (
    PROVIDERS,
    CloudConfig,
    CloudError,
    CloudProvider,
    NodeSpec,
    get_provider,
    provider_class,
)

CREDENTIAL_NAMES = {"key", "secret", "username", "password"}
REPO = Path(__file__).resolve().parents[2]


def test_the_first_class_drivers_and_the_generic_one_are_registered():
    assert list(PROVIDERS) == ["ec2", "cloudstack", "openstack", "libcloud", "qemu"]


@pytest.mark.parametrize("kind", PROVIDERS)
def test_every_kind_names_a_provider_class_of_that_kind_and_label(kind):
    cls = provider_class(kind)

    assert issubclass(cls, CloudProvider)
    assert (cls.kind, cls.label) == (kind, PROVIDERS[kind][0])


@pytest.mark.parametrize("kind", PROVIDERS)
def test_every_provider_declares_its_parameters_with_credentials_sensitive(kind):
    parameters = provider_class(kind).parameters
    names = [param.name for param in parameters]

    assert len(names) == len(set(names)) > 0
    assert all(param.label for param in parameters)
    for param in parameters:
        assert param.sensitive == (param.name in CREDENTIAL_NAMES), param.name


@pytest.mark.parametrize("kind", PROVIDERS)
def test_every_provider_names_the_config_fields_it_reads(kind):
    fields = provider_class(kind).endpoint_fields

    assert fields is not None and set(fields) <= {"host", "port", "path", "secure", "region", "zone"}
    assert fields or kind == "qemu"  # only the desktop cloud has no endpoint


def test_get_provider_builds_the_provider_for_the_configs_driver():
    config = CloudConfig(
        driver="cloudstack", credentials={"key": "k", "secret": "s"}, host="cloud.example.org"
    )

    provider = get_provider(config)

    assert type(provider).__name__ == "CloudStackProvider"
    assert provider.config is config


def test_an_unknown_driver_is_a_permanent_error():
    with pytest.raises(CloudError, match='unknown cloud driver "vmware"') as caught:
        get_provider(CloudConfig(driver="vmware"))

    assert caught.value.permanent


def test_credentials_never_show_in_a_configs_repr():
    config = CloudConfig(driver="ec2", credentials={"key": "AKIDSECRET", "secret": "hunter2"})

    assert "hunter2" not in repr(config) and "AKIDSECRET" not in repr(config)


def dummy(**options):
    """libcloud's own in-memory "dummy" driver, through the generic provider."""
    return get_provider(
        CloudConfig(driver="libcloud", credentials={"key": "0"}, options={"provider": "dummy", **options})
    )


def test_the_generic_provider_drives_any_libcloud_driver():
    cloud = dummy()

    assert [node.state for node in cloud.list_nodes()] == ["running", "running"]
    assert cloud.list_sizes() and cloud.list_images()
    node = cloud.create_node(NodeSpec(name="n", size_id="1", image_id="1"))
    assert node.id in {n.id for n in cloud.list_nodes()}


def test_the_generic_provider_refuses_user_data_its_driver_cannot_pass():
    with pytest.raises(CloudError, match="cannot pass user-data") as caught:
        dummy().create_node(NodeSpec(name="n", size_id="1", image_id="1", user_data="#!/bin/sh\n"))

    assert caught.value.permanent


@pytest.mark.parametrize(
    ("options", "message"),
    [({"provider": "no-such-cloud"}, 'no compute driver "no-such-cloud"'),
     ({"driver_args": "{not json"}, "not JSON"),
     ({"driver_args": "[1, 2]"}, "must be a JSON object")],
)  # fmt: skip
def test_the_generic_provider_explains_a_bad_configuration(options, message):
    with pytest.raises(CloudError, match=message) as caught:
        dummy(**options).list_nodes()

    assert caught.value.permanent


def project_modules():
    """The project's .py files, outside the cloud drivers, test tools and tests."""
    skipped = {
        REPO / "clusters" / "providers",
        REPO / "clusters" / "testing",
        REPO / "var",
        REPO / "node_modules",
    }
    for folder, subfolders, files in os.walk(REPO):
        subfolders[:] = [name for name in subfolders if not name.startswith(".") and name != "tests"
                         and Path(folder, name) not in skipped]  # fmt: skip
        yield from (Path(folder, name) for name in files if name.endswith(".py"))


def test_no_module_outside_the_providers_imports_libcloud():
    importing = re.compile(r"^\s*(from|import)\s+libcloud\b", re.MULTILINE)
    modules = list(project_modules())

    assert REPO / "clusters" / "apps.py" in modules
    assert [str(path) for path in modules if importing.search(path.read_text(errors="replace"))] == []
