"""The audit tests' clouds: the provider tests' real servers (moto's EC2, the CloudStack simulator)."""

from clusters.tests.conftest import _cloudstack_simulator, _moto_server, cloudstack_sim, moto_ec2  # noqa: F401
