"""portalctl definitions against a live portal: list and show definitions, make a role elastic,
change its policy, make it fixed again, ask for spot capacity — through the API, whose rules
refuse a bad policy with the editor's messages."""

import pytest
from rest_framework.authtoken.models import Token

from clusters.models import Role
from clusters.tests.definition_helpers import (
    WORKER_DOCUMENT,
    make_definition,
    make_image,
    make_offering,
    make_profile,
)
from portalctl.cli import build_parser, main
from portalctl.tests.test_portalctl import portalctl

live = pytest.mark.django_db(transaction=True)


@pytest.fixture
def token(alice):
    return Token.objects.create(user=alice).key


@pytest.fixture
def pool(alice):
    """Alice's definition: master ×1 and worker ×4 (fixed) needing the master."""
    image, offering = make_image(alice), make_offering()
    return make_definition(alice, roles=[
        {"name": "master", "profile": make_profile(alice, "Master"), "image": image, "offering": offering},
        {"name": "worker", "profile": make_profile(alice, "Worker", document=WORKER_DOCUMENT), "image": image,
         "offering": offering, "count": 4, "depends_on": ["master"]},
    ])  # fmt: skip


def run(capsys, live_server, token, *args):
    code = main(["--url", live_server.url, "--token", token, "definitions", *args])
    out, err = capsys.readouterr()
    return code, out, err


def worker():
    role = Role.objects.get(name="worker")
    return (role.elastic, role.min_count, role.max_count, role.jobs_per_worker, role.idle_seconds,
            role.cooldown_seconds, role.drain_deadline_seconds, role.spot)  # fmt: skip


def test_it_parses_times_in_seconds_minutes_or_hours():
    args = build_parser().parse_args(["definitions", "elastic", "3", "worker", "--min", "0", "--max", "20",
                                      "--idle", "10m", "--cooldown", "90", "--drain-deadline", "1h", "--spot"])  # fmt: skip
    assert (args.id, args.role, args.min, args.max) == (3, "worker", 0, 20)
    assert (args.idle, args.cooldown, args.drain_deadline, args.spot, args.off) == (
        600,
        90,
        3600,
        True,
        False,
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["definitions", "elastic", "3", "worker", "--idle", "ten minutes"],
        ["definitions", "elastic", "3"],
        ["definitions", "spot", "3", "worker", "maybe"],
        ["definitions", "show", "pool"],
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["--url", "http://x", "--token", "t", *argv])
    assert exit.value.code == 2
    assert "usage:" in capsys.readouterr().err


@pytest.mark.parametrize("options", [["--off", "--max", "3"], ["--off", "--idle", "5m"], ["--count", "3"]])
def test_options_that_contradict_each_other_exit_2_before_asking(options, capsys):
    assert (
        main(
            ["--url", "http://127.0.0.1:9", "--token", "t", "definitions", "elastic", "3", "worker", *options]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("portalctl: error: ") and "cannot reach" not in err


@live
def test_it_makes_a_role_elastic_changes_its_policy_and_makes_it_fixed_again(
    live_server, capsys, token, pool
):
    code, out, err = run(capsys, live_server, token, "elastic", str(pool.pk), "worker", "--min", "0", "--max", "20",
                         "--jobs-per-worker", "4", "--idle", "10m", "--spot")  # fmt: skip
    assert code == 0, err
    assert out == (f"definition {pool.pk} role worker: elastic 0–20, 4 jobs per worker, drain after 600 s idle, "
                   "cool-down 120 s, drain deadline 3600 s, spot\n")  # fmt: skip
    assert worker() == (True, 0, 20, 4, 600, 120, 3600, True)

    code, out, err = run(capsys, live_server, token, "elastic", str(pool.pk), "worker", "--cooldown", "30s",
                         "--drain-deadline", "2h")  # fmt: skip
    assert code == 0, err
    assert worker() == (True, 0, 20, 4, 600, 30, 7200, True)  # what was not given stays

    code, out, err = run(capsys, live_server, token, "show", str(pool.pk))
    assert code == 0, err
    assert out.splitlines() == [
        f"definition {pool.pk} Condor pool (private)",
        "  master\tfixed 1 (0–any)",
        "  worker\telastic 0–20, 4 jobs per worker, drain after 600 s idle, cool-down 30 s, drain deadline 7200 s, "
        "spot",
    ]

    code, out, err = run(capsys, live_server, token, "elastic", str(pool.pk), "worker", "--off", "--count", "6",
                         "--no-spot")  # fmt: skip
    assert code == 0, err
    assert out == f"definition {pool.pk} role worker: fixed 6 (0–20)\n"
    assert Role.objects.get(name="worker").elastic is False


@live
def test_spot_capacity_is_asked_for_and_dropped(live_server, capsys, token, pool):
    assert run(capsys, live_server, token, "spot", str(pool.pk), "master", "on")[0] == 0
    assert Role.objects.get(name="master").spot is True
    code, out, _ = run(capsys, live_server, token, "spot", str(pool.pk), "master", "off")
    assert code == 0 and out == f"definition {pool.pk} role master: fixed 1 (0–any)\n"
    assert Role.objects.get(name="master").spot is False


@live
def test_a_bad_policy_is_refused_with_the_editors_message_and_nothing_changes(
    live_server, capsys, token, pool
):
    code, out, err = run(capsys, live_server, token, "elastic", str(pool.pk), "worker", "--min", "0")
    assert code == 1 and out == ""
    assert "HTTP 400" in err and "role 'worker': an elastic role needs a maximum count" in err
    assert err.count("\n") == 1
    code, _, err = run(capsys, live_server, token, "elastic", str(pool.pk), "master", "--max", "3")
    assert (
        code == 1 and "role 'master': other roles need its address, so its minimum must be at least 1" in err
    )
    assert worker()[0] is False and Role.objects.get(name="master").elastic is False


@live
def test_an_unknown_role_names_the_roles_there_are(live_server, capsys, token, pool):
    code, _, err = run(capsys, live_server, token, "elastic", str(pool.pk), "gpu", "--max", "3")
    assert code == 1
    assert f"definition {pool.pk} has no role 'gpu' (its roles: master, worker)" in err


@live
def test_a_strangers_definition_cannot_be_changed(live_server, capsys, charlie, pool):
    pool.visibility = "public"
    pool.save()
    stranger = Token.objects.create(user=charlie).key
    code, out, _ = run(capsys, live_server, stranger, "show", str(pool.pk))
    assert code == 0 and "worker\tfixed 4" in out
    code, _, err = run(capsys, live_server, stranger, "elastic", str(pool.pk), "worker", "--max", "3")
    assert code == 1 and "HTTP 404" in err
    assert worker()[0] is False


@live
def test_a_user_lists_definitions_from_the_shell(live_server, token, pool):
    Role.objects.filter(name="worker").update(elastic=True, max_count=20)
    done = portalctl("definitions", "list", url=live_server.url, token=token)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{pool.pk}\tCondor pool\tprivate\tmaster × 1, worker × 0–20\n"
