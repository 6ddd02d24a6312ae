"""Chef, the service added through the registry alone: its module, its schema fragment, these tests."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from contexts.document import SCHEMA, validate
from contexts.render import render
from contexts.services import SERVICES
from contexts.tests.profile_helpers import editor_data, make_profile
from contexts.tests.render_samples import SALT_SEED, VARIABLES
from contexts.tests.test_render_cloud_init_schema import assert_cloud_init_accepts
from contexts.tests.test_render_shell import amiconfig_sh_part, sh_syntax_errors

REPO = Path(__file__).resolve().parents[2]
NODE_JSON = "/etc/chef/node.json"
URL = "https://cookbooks.example.org/site.tar.gz?user=it's&x=$(id)`id`"
ATTRIBUTES = {"web": {"motd": "it's $(touch /tmp/context-portal-pwned) `id` ${HOME}", "port": 8080}}
CHEF = {"run_list": ["recipe[web::default@1.2.0]", "role[base]"], "recipe_url": URL, "attributes": ATTRIBUTES}
NODE = {"run_list": CHEF["run_list"], **ATTRIBUTES}


def rendered(fmt: str, **chef) -> str:
    document = {"schema": 1, "services": {"chef": {**CHEF, **chef}}}
    assert validate(document) == []
    return render(document, VARIABLES, fmt, salt_seed=SALT_SEED).decode()


def argv(client="chef-solo", *extra):
    return [client, "-j", NODE_JSON, "--recipe-url", URL, *extra]


# --- only its module, its schema fragment and its tests -----------------------------------------


def test_the_registry_and_the_schema_list_the_same_services():
    assert set(SERVICES) == set(SCHEMA["properties"]["services"]["properties"])
    assert list(SERVICES)[-1] == "chef"
    assert SERVICES["chef"].label == "Chef"


def project_files():
    """The project's .py and .html files, outside the services package and the tests."""
    skipped = {REPO / "contexts" / "services", REPO / "var", REPO / "node_modules"}
    for folder, subfolders, files in os.walk(REPO):
        subfolders[:] = [
            name
            for name in subfolders
            if not name.startswith(".") and name != "tests" and Path(folder, name) not in skipped
        ]
        yield from (Path(folder, name) for name in files if name.endswith((".py", ".html")))


def test_no_module_outside_the_services_package_mentions_chef():
    files = list(project_files())

    assert REPO / "contexts" / "forms.py" in files
    assert [str(path) for path in files if re.search("chef", path.read_text(errors="replace"), re.I)] == []


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_form_left_blank_adds_nothing(name):
    form = SERVICES[name].form({}, initial=SERVICES[name].form.initial(None))

    assert form.is_valid(), form.errors
    assert form.to_document(set()) is None


# --- rendering ----------------------------------------------------------------------------------


def test_cloud_init_writes_the_node_json_and_runs_chef_solo(tmp_path):
    output = rendered("cloud-init")
    config = yaml.safe_load(output)

    [node] = [f for f in config["write_files"] if f["path"] == NODE_JSON]
    assert json.loads(node["content"]) == NODE
    assert node["permissions"] == "0600"
    assert config["runcmd"] == [argv()]
    assert "chef" not in config  # cloud-init's chef module talks to a server: not used
    assert_cloud_init_accepts(output.encode(), tmp_path)


def test_the_chef_license_is_accepted_only_when_asked_and_only_for_chef_solo():
    assert yaml.safe_load(rendered("cloud-init", accept_license=True))["runcmd"] == [
        argv("chef-solo", "--chef-license", "accept")
    ]
    cinc = rendered("cloud-init", client="cinc-solo", accept_license=True)
    assert yaml.safe_load(cinc)["runcmd"] == [argv("cinc-solo")]


def run_sandboxed(script: str, section: str, tmp_path) -> subprocess.CompletedProcess:
    """Run one section of a script with cp_write into `tmp_path` and cp_as printing its words."""
    body = script[script.index(f"# {section}\n") :].split("\n\n")[0]
    sandbox = (
        'cp_write() { cat >"$SANDBOX/$(printf %s "$1" | tr / _)"; }\n'
        "cp_as() { shift; printf '%s\\0' \"$@\"; }\nset -eu\n" + body + "\n"
    )
    return subprocess.run(
        ["sh", "-c", sandbox],
        env={"SANDBOX": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        check=True,
    )


@pytest.mark.parametrize("fmt", ["shell", "amiconfig"])
def test_the_sh_formats_write_the_node_json_and_run_the_client_with_every_value_literal(fmt, tmp_path):
    output = rendered(fmt)
    script = amiconfig_sh_part(output) if fmt == "amiconfig" else output
    assert sh_syntax_errors(script) == ""

    run_sandboxed(script, "Files", tmp_path)
    assert json.loads((tmp_path / "_etc_chef_node.json").read_text()) == NODE
    printed = run_sandboxed(script, "Services", tmp_path).stdout
    assert printed.split(b"\0")[:-1] == [word.encode() for word in argv()]
    assert not Path("/tmp/context-portal-pwned").exists()


def test_amiconfig_has_no_chef_plugin_and_runs_it_in_the_sh_part():
    output = rendered("amiconfig")

    assert "[amiconfig]\nplugins=cernvm\n" in output
    assert "[chef]" not in output
    assert "cp_as 'chef-solo -j /etc/chef/node.json' 'chef-solo'" in amiconfig_sh_part(output)


# --- the schema ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "item", ["web", "recipe[web]; rm -rf /", "recipe[web]\n", "role[]", "recipe[$(id)]", "roles[base]"]
)
def test_the_schema_refuses_a_bad_run_list_item(item):
    problems = validate({"schema": 1, "services": {"chef": {**CHEF, "run_list": ["recipe[ok]", item]}}})

    assert problems == [
        f"services.chef.run_list[1]: {item!r} is not allowed here "
        "(recipe[cookbook], recipe[cookbook::recipe] or role[name])"
    ]


@pytest.mark.parametrize(
    "url", ["ftp://cookbooks.example.org/c.tgz", "file:///etc/passwd", "--help", "https://a b", "https://x\n"]
)
def test_the_schema_refuses_a_cookbook_url_that_is_not_http(url):
    problems = validate({"schema": 1, "services": {"chef": {**CHEF, "recipe_url": url}}})

    assert problems == [f"services.chef.recipe_url: {url!r} is not allowed here (an https:// or http:// URL)"]


def test_the_schema_wants_a_run_list_and_a_url_and_knows_the_clients():
    problems = validate({"schema": 1, "services": {"chef": {"run_list": [], "client": "knife"}}})

    assert "services.chef: 'recipe_url' is required" in problems
    assert "services.chef.client: must be one of chef-solo, cinc-solo" in problems


def test_a_templated_url_is_accepted_and_rendered():
    url = "http://{{ roles.master.address }}/cookbooks.tar.gz"
    document = {"schema": 1, "services": {"chef": {**CHEF, "recipe_url": url}}}

    assert validate(document) == []
    config = yaml.safe_load(render(document, VARIABLES, salt_seed=SALT_SEED))
    assert config["runcmd"][0][4] == "http://10.0.0.5/cookbooks.tar.gz"


# --- the editor ---------------------------------------------------------------------------------


def _edit(client, profile, **changes):
    url = f"/profiles/{profile.pk}/edit/"
    return client.post(url, editor_data(client.get(url), **changes))


@pytest.mark.django_db
def test_the_editor_shows_a_chef_section_and_saves_it(alice_client, alice):
    profile = make_profile(alice)
    assert "Cookbook archive URL" in alice_client.get(f"/profiles/{profile.pk}/edit/").content.decode()

    response = _edit(
        alice_client,
        profile,
        **{
            "chef-recipe_url": "https://cookbooks.example.org/site.tar.gz",
            "chef-run_list": "recipe[web]\r\nrole[base]\r\n",
            "chef-client": "cinc-solo",
            "chef-attributes": '{"web": {"port": 8080}}',
        },
    )

    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.latest.document["services"]["chef"] == {
        "client": "cinc-solo",
        "run_list": ["recipe[web]", "role[base]"],
        "recipe_url": "https://cookbooks.example.org/site.tar.gz",
        "attributes": {"web": {"port": 8080}},
    }
    assert profile.latest.document["services"]["condor"]["role"] == "worker"  # the others stay


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"chef-run_list": "recipe[web]"}, "Fill this in to enable Chef"),
        ({"chef-recipe_url": "https://c.example/c.tgz"}, "Give at least one recipe or role."),
        (
            {
                "chef-recipe_url": "https://c.example/c.tgz",
                "chef-run_list": "recipe[web]",
                "chef-attributes": "{not json",
            },
            "This is not JSON",
        ),
        (
            {
                "chef-recipe_url": "https://c.example/c.tgz",
                "chef-run_list": "recipe[web]",
                "chef-attributes": '{"run_list": []}',
            },
            "Give the run list in its own field.",
        ),
        ({"chef-recipe_url": "ftp://c.example/c.tgz", "chef-run_list": "web"}, "is not allowed here"),
    ],
)
def test_the_editor_refuses_an_incomplete_or_bad_chef_section(alice_client, alice, changes, message):
    profile = make_profile(alice)

    response = _edit(alice_client, profile, **changes)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert profile.revisions.count() == 1
