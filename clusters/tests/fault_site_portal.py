"""Run in a process of a fault test's site (clusters/tests/fault_site.py), on the site's database and
Redis: alice, her EC2 cloud at --host:--port (moto behind the fault proxy), a definition of --count
plain nodes, and its launch, as a request would start it; prints {"cluster": id} as JSON.

    python -m clusters.tests.fault_site_portal --host 127.0.0.1 --port 5000 --count 50 --queue q
"""

import argparse
import json


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--queue", required=True)
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth.models import User

    from clusters import launcher
    from clusters.providers import CloudConfig
    from clusters.tests.fault_helpers import one_role_definition
    from clusters.tests.launch_helpers import cloud_with_offering

    alice = User.objects.create_user("alice", password="not used")
    config = CloudConfig(driver="ec2", credentials={"key": "testing-access-key", "secret": "testing-secret-key"},
                         host=args.host, port=args.port, secure=False, region="us-east-1")  # fmt: skip
    cloud = cloud_with_offering(alice, config, queue=args.queue)
    definition = one_role_definition(alice, cloud, args.count)
    cluster = launcher.launch(definition, alice, "faults", {"node": cloud})
    print(json.dumps({"cluster": cluster.pk}))


if __name__ == "__main__":
    main()
