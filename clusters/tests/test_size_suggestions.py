import pytest

from clusters.clouds import closest_size, suggest_mappings
from clusters.models import CloudSize, ServiceOffering, SizeMapping
from clusters.tests.cloud_helpers import make_cloud

SIZES = [
    # id, vCPUs, RAM MiB
    ("t2.micro", 1, 1024),
    ("t2.small", 1, 2048),
    ("t2.medium", 2, 4096),
    ("c5.large", 2, 4096 + 1),
    ("r5.large", 2, 16384),
    ("m5.xlarge", 4, 16384),
    ("mystery", None, None),
]


def _sizes(cloud):
    return [CloudSize.objects.create(cloud=cloud, size_id=i, vcpus=c, ram_mb=r) for i, c, r in SIZES]


def _offering(name, vcpus, ram_mb):
    return ServiceOffering.objects.create(name=name, vcpus=vcpus, ram_mb=ram_mb)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("vcpus", "ram_mb", "expected"),
    [
        (1, 2048, "t2.small"),  # an exact fit
        (1, 1500, "t2.small"),  # never smaller than asked: t2.micro has too little RAM
        (2, 3000, "t2.medium"),  # fewest vCPUs first, then the least RAM that fits
        (2, 8192, "r5.large"),  # enough RAM beats fewer vCPUs... within the same vCPU count
        (3, 1024, "m5.xlarge"),  # the next vCPU count up
        (16, 65536, "m5.xlarge"),  # nothing is big enough: the biggest stands in
    ],
)
def test_it_suggests_the_closest_size_not_smaller_than_asked(alice, vcpus, ram_mb, expected):
    cloud = make_cloud(alice)
    _sizes(cloud)
    assert closest_size(_offering("x", vcpus, ram_mb), cloud.sizes.all()).size_id == expected


def test_sizes_of_unknown_shape_are_never_suggested():
    offering = ServiceOffering(name="x", vcpus=1, ram_mb=1)
    assert closest_size(offering, [CloudSize(size_id="mystery")]) is None


@pytest.mark.django_db
def test_a_cloud_without_synced_sizes_gets_no_suggestion(alice):
    assert closest_size(_offering("small", 1, 2048), make_cloud(alice).sizes.all()) is None


@pytest.mark.django_db
def test_suggestions_cover_every_unmapped_pair_of_synced_clouds(alice):
    synced, mapped_cloud, unsynced = (
        make_cloud(alice, name="a"),
        make_cloud(alice, name="b"),
        make_cloud(alice, name="c"),
    )
    _sizes(synced)
    _sizes(mapped_cloud)
    small, large = _offering("small", 1, 2048), _offering("large", 4, 16000)
    SizeMapping.objects.create(offering=small, cloud=mapped_cloud, size_id="custom")
    found = {(s.offering.name, s.cloud.name): s.size.size_id for s in suggest_mappings([small, large])}
    assert found == {("small", "a"): "t2.small", ("large", "a"): "m5.xlarge", ("large", "b"): "m5.xlarge"}
    assert unsynced.name not in {cloud for _, cloud in found}
