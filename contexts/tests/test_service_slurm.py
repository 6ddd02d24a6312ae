"""Slurm: slurmctld on the head, slurmd as dynamic nodes on the workers, one MUNGE key from the
cluster's secret, in all three formats (the real daemons: test_service_slurm_daemons.py)."""

import base64
import subprocess

import pytest
import yaml

from contexts.document import SCHEMA, validate
from contexts.render import RenderError, render
from contexts.services import SERVICES
from contexts.services.reporter import COLLECTOR_PATH
from contexts.services.slurm import COLLECTOR, CONFIG, MUNGE_KEY, SLURMD_DROP_IN
from contexts.tests.profile_helpers import editor_data, make_profile
from contexts.tests.test_render_cloud_init_schema import assert_cloud_init_accepts
from contexts.tests.test_render_shell import amiconfig_sh_part, sh_syntax_errors
from portal.testing.slurm import HEAD, SECRET, document, node_variables, rendered_nodes, written_files

CHECKIN = {"url": "https://portal.example.org/api/v1/instance/", "token": "t" * 43}


def worker(fmt="cloud-init", *, name="demo-worker-3", secret=SECRET, **settings) -> str:
    values = node_variables(name, "worker", 3, "10.0.0.5")
    values["cluster"]["secret"] = secret
    return render(document("worker", **settings), values, fmt, salt_seed=b"t").decode()


def head(fmt="cloud-init", **options) -> str:
    return render(
        document("controller"), node_variables(HEAD, "head", 0, HEAD), fmt, salt_seed=b"t", **options
    ).decode()


def test_the_registry_and_the_schema_know_slurm():
    assert "slurm" in SCHEMA["properties"]["services"]["properties"]
    assert SERVICES["slurm"].label == "Slurm"


# --- what each node gets ------------------------------------------------------------------------


def test_the_head_runs_slurmctld_and_every_node_gets_the_same_config_but_the_controller(tmp_path):
    nodes = {name: written_files(data) for name, data in rendered_nodes(workers=2).items()}
    head_conf = nodes[HEAD][CONFIG]

    assert "SlurmctldHost=demo-head-0\n" in head_conf  # the head's own name: slurmctld looks for it
    assert "\nPartitionName=batch Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n" in head_conf
    assert "NodeName=" not in head_conf  # workers register themselves: nothing to restart for them
    for name in ("demo-worker-0", "demo-worker-1"):
        conf = nodes[name][CONFIG]
        assert conf == head_conf.replace("SlurmctldHost=demo-head-0", "SlurmctldHost=127.0.0.1")
    config = yaml.safe_load(head())
    assert config["packages"] == ["munge", "slurmctld"]
    assert config["runcmd"][-1] == ["systemctl", "restart", "slurmctld"]
    assert SLURMD_DROP_IN not in nodes[HEAD]
    assert_cloud_init_accepts(head().encode(), tmp_path)


def test_a_worker_runs_slurmd_as_a_dynamic_node_named_like_its_instance(tmp_path):
    config = yaml.safe_load(worker())
    files = written_files(worker().encode())

    assert "ExecStart=/usr/sbin/slurmd -D -s -Z -N demo-worker-3 $SLURMD_OPTIONS\n" in files[SLURMD_DROP_IN]
    assert config["packages"] == ["munge", "slurmd", "slurm-client"]
    assert config["runcmd"] == [
        ["systemctl", "daemon-reload"],
        ["systemctl", "enable", "munge", "slurmd"],
        ["systemctl", "restart", "munge"],
        ["systemctl", "restart", "slurmd"],
    ]
    assert_cloud_init_accepts(worker().encode(), tmp_path)


def test_an_instance_name_slurm_would_not_take_leaves_slurmd_its_host_name():
    files = written_files(worker(name="Not_A-Node").encode())

    assert "-N" not in files[SLURMD_DROP_IN].split()


def test_the_max_nodes_setting_is_slurms_max_node_count():
    assert "\nMaxNodeCount=1024\n" in written_files(worker().encode())[CONFIG]
    assert "\nMaxNodeCount=50\n" in written_files(worker(max_nodes=50).encode())[CONFIG]


# --- the MUNGE key ------------------------------------------------------------------------------


def munge_entry(output: str) -> dict:
    return next(f for f in yaml.safe_load(output)["write_files"] if f["path"] == MUNGE_KEY)


def test_every_node_of_a_cluster_derives_the_same_munge_key_from_its_secret():
    keys = {name: written_files(data)[MUNGE_KEY] for name, data in rendered_nodes(workers=2).items()}

    assert len(set(keys.values())) == 1
    key = keys[HEAD]
    assert len(key) == 128 and int(key, 16)  # 512 bits as hex; munged needs 32 bytes or more
    assert key not in (SECRET, "")
    assert written_files(worker(secret="another-cluster").encode())[MUNGE_KEY] != key


def test_the_munge_key_is_root_only_owned_by_munge_and_never_in_clear_text():
    output = worker()
    entry = munge_entry(output)
    key = base64.b64decode(entry["content"]).decode()

    assert (entry["owner"], entry["permissions"], entry["encoding"]) == ("munge:munge", "0400", "b64")
    for fmt in ("cloud-init", "shell", "amiconfig"):
        assert key not in worker(fmt) and SECRET not in worker(fmt)


def test_a_munge_key_setting_replaces_the_cluster_secret_as_the_seed():
    own = written_files(worker(munge_key="our-site-key").encode())[MUNGE_KEY]

    assert own == written_files(worker(munge_key="our-site-key", secret="x").encode())[MUNGE_KEY]
    assert own != written_files(worker().encode())[MUNGE_KEY]


def test_a_preview_shows_no_munge_key():
    values = node_variables("demo-worker-0", "worker", 0, "10.0.0.5")
    output = render(document("worker"), values, salt_seed=b"t", redact=True).decode()

    assert munge_entry(output)["content"] == "********"


def test_without_a_cluster_secret_or_a_key_the_render_says_what_is_missing():
    values = node_variables("demo-worker-0", "worker", 0, "10.0.0.5")
    del values["cluster"]["secret"]

    with pytest.raises(RenderError, match="set munge_key, or render with cluster.secret"):
        render(document("worker"), values, salt_seed=b"t")


# --- the sh formats -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["shell", "amiconfig"])
def test_the_sh_formats_write_the_same_files_and_run_the_same_commands(fmt):
    output = worker(fmt)
    script = amiconfig_sh_part(output) if fmt == "amiconfig" else output

    assert sh_syntax_errors(script) == ""
    assert f"cp_write '{MUNGE_KEY}' 0400 'munge:munge'" in script
    assert f"cp_write '{SLURMD_DROP_IN}' 0644 'root:root'" in script
    assert "cp_install 'munge' 'slurmd' 'slurm-client'" in script
    assert "cp_as 'systemctl restart slurmd' 'systemctl' 'restart' 'slurmd'" in script
    assert "[slurm]" not in output  # amiconfig has no Slurm plugin: its sh part does it


# --- the reporter on the head -------------------------------------------------------------------


def test_the_head_installs_the_collector_for_the_reporter_only_with_check_in():
    files = written_files(head(checkin=CHECKIN).encode())

    assert files[COLLECTOR_PATH] == COLLECTOR
    assert COLLECTOR_PATH not in written_files(head().encode())
    assert COLLECTOR_PATH not in written_files(worker().encode())
    assert subprocess.run(["sh", "-n"], input=COLLECTOR, text=True).returncode == 0


# --- the schema ---------------------------------------------------------------------------------


@pytest.mark.parametrize("controller", ["a b", "head\nSlurmUser=root", "-x", ""])
def test_the_schema_refuses_a_controller_that_is_not_a_host(controller):
    problems = validate({"schema": 1, "services": {"slurm": {"role": "worker", "controller": controller}}})

    assert problems == [
        f"services.slurm.controller: {controller!r} is not allowed here (a host name or address)"
    ]


def test_the_schema_knows_the_roles_and_bounds_max_nodes():
    problems = validate({"schema": 1, "services": {"slurm": {"role": "master", "max_nodes": 0}}})

    assert "services.slurm: 'controller' is required" in problems
    assert "services.slurm.role: must be one of controller, worker" in problems
    assert any(p.startswith("services.slurm.max_nodes:") for p in problems)


def test_a_template_that_makes_a_bad_controller_is_refused_when_rendering():
    values = node_variables("demo-worker-0", "worker", 0, "10.0.0.5 SlurmUser=root")

    with pytest.raises(RenderError, match="services.slurm.controller: the template produced a value"):
        render(document("worker"), values, salt_seed=b"t")


# --- the editor ---------------------------------------------------------------------------------


def _edit(client, profile, **changes):
    url = f"/profiles/{profile.pk}/edit/"
    return client.post(url, editor_data(client.get(url), **changes))


@pytest.mark.django_db
def test_the_editor_shows_a_slurm_section_and_saves_it(alice_client, alice):
    profile = make_profile(alice)
    assert "Most workers at once" in alice_client.get(f"/profiles/{profile.pk}/edit/").content.decode()

    response = _edit(
        alice_client,
        profile,
        **{
            "slurm-role": "worker",
            "slurm-controller": "{{ roles.head.address }}",
            "slurm-munge_key": "site-key",
            "slurm-max_nodes": "64",
        },
    )

    assert response.status_code == 302
    profile.refresh_from_db()
    stored = profile.latest.document["services"]["slurm"]
    assert {k: v for k, v in stored.items() if k != "munge_key"} == {
        "role": "worker",
        "controller": "{{ roles.head.address }}",
        "max_nodes": 64,
    }
    assert "site-key" not in str(stored)  # encrypted at rest
    assert "site-key" not in alice_client.get(f"/profiles/{profile.pk}/edit/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"slurm-role": "worker"}, "Give the controller"),
        ({"slurm-controller": "10.0.0.5"}, "Fill this in to enable Slurm"),
        ({"slurm-role": "worker", "slurm-controller": "a b"}, "is not allowed here"),
    ],
)
def test_the_editor_refuses_an_incomplete_or_bad_slurm_section(alice_client, alice, changes, message):
    profile = make_profile(alice)

    response = _edit(alice_client, profile, **changes)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert profile.revisions.count() == 1
