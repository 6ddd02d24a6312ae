"""Validation of profile documents: clear messages with the path of the problem."""

import pytest

from contexts.document import DocumentInvalid, dump_yaml, parse_yaml, validate

SPEC_EXAMPLE = """
schema: 1
hostname: "{{ cluster.name }}-{{ role.name }}-{{ instance.index }}"
timezone: Europe/Zurich
users:
  - name: alice
    gecos: Alice Physicist
    groups: [wheel]
    sudo: true
    shell: /bin/bash
    ssh_authorized_keys: ["ssh-ed25519 AAAAC3Nz... alice@laptop"]
    password: "s3cret"
root: {ssh_authorized_keys: [], password: null}
packages: [htop, git]
package_upgrade: false
cvmfs:
  repositories: [cms.cern.ch, sft.cern.ch]
  extra_repositories:
    - {name: exp.example.org, server: "http://s1.example.org/cvmfs/@fqrn@", public_key: "-----BEGIN PUBLIC KEY-----..."}
  http_proxy: "http://squid.example.org:3128"
  quota_mb: 20000
services:
  condor: {role: worker, master: "{{ roles.master.address }}", pool_password: "..."}
  puppet: {server: puppet.example.org, environment: production}
  ansible_pull: {url: "https://git.example.org/site.git", playbook: local.yml}
env: {EXPERIMENT: CMS}
files:
  - {path: /etc/motd, content: "Welcome\\n", mode: "0644"}
scripts:
  - {name: setup, language: bash, body: "echo hi > /tmp/hi", run: once}
cloud_config: {ntp: {enabled: true}}
"""


def test_the_spec_example_is_valid():
    assert validate(parse_yaml(SPEC_EXAMPLE)) == []


def test_a_document_round_trips_through_yaml():
    document = parse_yaml(SPEC_EXAMPLE)
    assert parse_yaml(dump_yaml(document)) == document


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, "document: 'schema' is required"),
        ({"schema": 2}, "schema: must be 1"),
        ({"schema": 1, "packages": "htop"}, "packages: must be a list, not a text"),
        ({"schema": 1, "users": [{"name": "Alice"}]}, "users[0].name: 'Alice' is not allowed here"),
        ({"schema": 1, "users": [{"name": "a", "colour": "red"}]}, "users[0]: unknown key 'colour'"),
        ({"schema": 1, "services": {"condor": {"role": "boss"}}}, "services.condor.role: must be one of master, worker, submit"),
        ({"schema": 1, "cvmfs": {"quota_mb": "lots"}}, "cvmfs.quota_mb: must be a whole number, not a text"),
        ({"schema": 1, "scripts": [{"name": "s", "body": "x" * 1_048_576}]}, "scripts[0].body: too long (1,048,576 characters; the limit is 65,536)"),
        ({"schema": 1, "hostname": "{{ clustr.name }}"}, "hostname: unknown template variable ('clustr' is undefined)"),
        ({"schema": 1, "hostname": "{{ cluster.name "}, "hostname: template syntax error"),
        ({"schema": 1, "users": [{"name": "a"}, {"name": "a"}]}, "users: the user 'a' is listed twice"),
        ({"schema": 1, "services": {"condor": {"role": "worker", "port_range": {"low": 9000, "high": 8000}}}}, "low must not be above high"),
    ],
)  # fmt: skip
def test_invalid_documents_get_a_clear_message(document, message):
    problems = validate(document)
    assert any(message in p for p in problems), problems


def test_templates_may_use_every_documented_variable():
    document = {"schema": 1, "hostname": "{{ cluster.name }}-{{ cluster.id }}-{{ role.name }}-{{ instance.index }}",
                "env": {"A": "{{ instance.name }} {{ cluster.secret }} {{ portal.url }}",
                        "B": "{{ roles.master.address }} {{ roles.worker.addresses | join(',') }}"}}  # fmt: skip
    assert validate(document) == []


def test_the_sandbox_refuses_unsafe_attribute_access():
    problems = validate({"schema": 1, "hostname": "{{ cluster.__class__.__mro__ }}"})
    assert problems and problems[0].startswith("hostname:")


def test_a_script_may_opt_out_of_templating_to_keep_braces():
    document = {
        "schema": 1,
        "scripts": [{"name": "s", "body": "echo {{ not_a_variable }}", "template": False}],
    }
    assert validate(document) == []


def test_shell_length_syntax_is_not_a_template_comment():
    document = {
        "schema": 1,
        "scripts": [{"name": "s", "body": 'a=(1 2); echo ${#a[@]} "{{ cluster.name }}"'}],
    }
    assert validate(document) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("schema: 1\nusers: [\n", "YAML syntax error at line 3"),
        ("- just\n- a list\n", "must be a mapping"),
        ("x" * (600 * 1024), "the limit is 524,288 bytes"),
    ],
)
def test_parse_yaml_explains_what_is_wrong(text, message):
    with pytest.raises(DocumentInvalid) as caught:
        parse_yaml(text)
    assert message in caught.value.messages[0]


def test_yaml_shows_keys_in_the_schema_order_whatever_the_storage_order():
    shuffled = {"users": [{"sudo": True, "name": "alice"}], "schema": 1, "env": {"B": "1", "A": "2"}}
    text = dump_yaml(shuffled)
    assert text.startswith("schema: 1\nusers:\n- name: alice\n  sudo: true\n")
    assert text.index("B:") < text.index("A:")  # free-form mappings keep their own order


def test_dates_in_yaml_stay_text_so_the_document_stores_as_json():
    document = parse_yaml("schema: 1\ncloud_config: {write_files: [{path: /x, content: 2024-01-01}]}\n")
    assert document["cloud_config"]["write_files"][0]["content"] == "2024-01-01"


@pytest.mark.parametrize(
    "text", ["schema: 1\ncloud_config: {x: .nan}\n", "schema: 1\ncloud_config: {x: !!binary aGk=}\n"]
)
def test_values_json_cannot_store_are_refused_with_a_message(text):
    with pytest.raises(DocumentInvalid) as caught:
        parse_yaml(text)
    assert "only text, numbers" in caught.value.messages[0]


@pytest.mark.parametrize(
    ("document", "where"),
    [
        ({"schema": 1, "hostname": "web\n"}, "hostname"),
        ({"schema": 1, "users": [{"name": "alice", "gecos": "Alice\n"}]}, "users[0].gecos"),
        ({"schema": 1, "env": {"SITE": "cern\n"}}, "env.SITE"),
    ],
)
def test_a_one_line_value_ending_in_a_line_break_is_refused(document, where):
    """The schema's patterns mean what JSON Schema says: `$` ends the text (Python's `$` also
    matched before a final line break)."""
    assert [p for p in validate(document) if p.startswith(f"{where}:")], validate(document)


def test_a_template_whose_result_ends_in_a_line_break_is_refused_at_render():
    """The renderer checks templates' results with the same validator (contexts.document.VALIDATOR)."""
    from contexts.render import RenderError, render

    document = {"schema": 1, "env": {"SITE": "cern{{ '\\n' }}"}}
    with pytest.raises(RenderError, match="env.SITE: the template produced a line break"):
        render(document, {}, "shell", salt_seed=b"s")
