"""What the audit tests share: requests from known addresses, a launchable definition, the records."""

from audit.models import AuditRecord
from clusters.providers import CloudConfig
from clusters.tests.launch_helpers import cloud_with_offering, condor_definition

# Documentation addresses (RFC 5737, RFC 3849): only ever written into rows, never contacted.
ALICE_ADDRESS, BOB_ADDRESS, STAFF_ADDRESS = "192.0.2.10", "198.51.100.7", "2001:db8::5"
# A cloud nobody answers on: these tests never commit, so nothing is ever sent to it.
UNREACHABLE = CloudConfig(driver="ec2", credentials={"key": "k", "secret": "s"}, host="127.0.0.1", port=1,
                          secure=False)  # fmt: skip


def launchable(owner, workers=2):
    cloud = cloud_with_offering(owner, UNREACHABLE)
    return cloud, condor_definition(owner, cloud, workers=workers)


def only_record(**filters) -> AuditRecord:
    [record] = AuditRecord.objects.filter(**filters)
    return record
