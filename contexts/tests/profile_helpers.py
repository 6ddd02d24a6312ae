"""Helpers shared by the profile page tests: a profile with every kind of secret, and the POST
data a browser sends back from the sectioned editor."""

import base64

from django import forms

from contexts.profiles import create_profile
from contexts.secrets import SEALED, secret_slots

USER_PASSWORD = "user-pw-Zq81x"
ROOT_PASSWORD = "root-pw-Kd02m"
POOL_PASSWORD = "pool-pw-Wt55r"


def full_document() -> dict:
    return {
        "schema": 1,
        "hostname": "{{ cluster.name }}-{{ role.name }}-{{ instance.index }}",
        "timezone": "Europe/Zurich",
        "users": [
            {
                "name": "alice",
                "gecos": "Alice Physicist",
                "groups": ["wheel"],
                "sudo": True,
                "shell": "/bin/bash",
                "ssh_authorized_keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample alice@laptop"],
                "password": USER_PASSWORD,
            }
        ],
        "root": {"password": ROOT_PASSWORD},
        "packages": ["htop", "git"],
        "cvmfs": {"repositories": ["cms.cern.ch"], "http_proxy": "DIRECT", "quota_mb": 20000},
        "services": {
            "condor": {
                "role": "worker",
                "master": "{{ roles.master.address }}",
                "pool_password": POOL_PASSWORD,
            },
            "puppet": {"server": "puppet.example.org", "environment": "production"},
        },
        "env": {"EXPERIMENT": "CMS"},
        "files": [{"path": "/etc/motd", "content": "Welcome\n", "mode": "0644"}],
        "scripts": [{"name": "setup", "language": "bash", "body": "echo hi > /tmp/hi\n", "run": "once"}],
        "cloud_config": {"ntp": {"enabled": True}},
    }


def make_profile(owner, *, visibility="private", document=None, name="Condor worker"):
    return create_profile(
        owner, name, document or full_document(), visibility=visibility, tags=["cms"], description="A worker."
    )


def secret_texts(profile) -> list[str]:
    """Every form a secret of the profile takes: plaintexts, base64 (as user-data carries the
    pool password) and stored ciphertexts."""
    ciphertexts = [
        c[k][SEALED]
        for revision in profile.revisions.all()
        for c, k, _ in secret_slots(revision.document)
        if c[k]
    ]
    plaintexts = [USER_PASSWORD, ROOT_PASSWORD, POOL_PASSWORD]
    return [*plaintexts, *(base64.b64encode(p.encode()).decode() for p in plaintexts), *ciphertexts]


def assert_no_secret(html: str, profile) -> None:
    for text in secret_texts(profile):
        assert text not in html


def _form_data(form) -> dict:
    data = {}
    for field in form:
        value = field.value()
        if isinstance(field.field, forms.BooleanField):
            if value:
                data[field.html_name] = "on"
        elif value is not None:
            data[field.html_name] = value
    return data


def editor_data(response, **changes) -> dict:
    """What the browser posts back from the editor page in `response`, with `changes` applied."""
    editor = response.context["editor"]
    data = {}
    for form in (*editor.forms.values(), editor.message_form):
        if isinstance(form, forms.BaseFormSet):
            data.update(_form_data(form.management_form))
            for item in form.forms:
                data.update(_form_data(item))
        else:
            data.update(_form_data(form))
    data.update(changes)
    return data
