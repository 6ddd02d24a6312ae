"""Secrets never leave in clear text: passwords as $6$ hashes, the pool password base64-encoded."""

import base64
import re

import pytest
from passlib.hash import sha512_crypt

from contexts import secrets
from contexts.render import FORMATS, render
from contexts.tests.render_samples import EXAMPLES, SALT_SEED, VARIABLES, example, render_example

HASH = re.compile(rb"\$6\$[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}")


def plaintexts(document: dict) -> list[str]:
    """The clear-text secret values of a plain document (none may leak)."""
    return [c[k] for c, k, _name in secrets.secret_slots(document) if isinstance(c[k], str) and c[k]]


def all_outputs(**options):
    for name in EXAMPLES:
        for fmt in FORMATS:
            yield name, fmt, render_example(name, fmt, **options)


def test_examples_carry_every_kind_of_secret():
    names = {name for n in EXAMPLES for _c, _k, name in secrets.secret_slots(example(n)) if _c[_k]}
    assert {"users[alice].password", "root.password", "services.condor.pool_password"} <= names


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", EXAMPLES)
def test_no_clear_text_secret_appears_in_any_output(name, fmt):
    output = render_example(name, fmt)
    for plain in plaintexts(example(name)):
        assert plain.encode() not in output


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", EXAMPLES)
def test_redacted_output_has_neither_secrets_nor_hashes(name, fmt, monkeypatch):
    def refuse(*args):
        raise AssertionError("password_hash must not be called when redacting")

    monkeypatch.setattr(secrets, "password_hash", refuse)
    document = secrets.redact(example(name))
    output = render(document, VARIABLES, fmt, salt_seed=SALT_SEED, redact=True)
    for plain in plaintexts(example(name)):
        assert plain.encode() not in output
        assert base64.b64encode(plain.encode()) not in output
    assert not HASH.search(output)


def test_user_password_is_a_sha512_crypt_hash_that_verifies():
    password = example("htcondor-worker")["users"][0]["password"]
    for fmt in FORMATS:
        hashes = HASH.findall(render_example("htcondor-worker", fmt))
        assert len(hashes) == 1, fmt
        assert sha512_crypt.verify(password, hashes[0].decode())


def test_root_password_is_a_hash_that_verifies():
    password = example("puppet-web")["root"]["password"]
    for fmt in FORMATS:
        (found,) = HASH.findall(render_example("puppet-web", fmt))
        assert sha512_crypt.verify(password, found.decode())


def test_pool_password_reaches_the_vm_base64_encoded_in_a_root_only_file():
    pool = example("htcondor-worker")["services"]["condor"]["pool_password"]
    encoded = base64.b64encode(pool.encode()).decode()
    cloud_init = render_example("htcondor-worker", "cloud-init").decode()
    assert f"path: /etc/condor/pool_password.source\n  content: {encoded}\n  encoding: b64\n" in cloud_init
    assert "permissions: '0600'" in cloud_init
    for fmt in ("shell", "amiconfig"):
        output = render_example("htcondor-worker", fmt).decode()
        assert (
            f"printf '%s' '{encoded}' | base64 -d | cp_write '/etc/condor/pool_password.source' 0600"
            in output
        )


def test_same_inputs_give_identical_bytes():
    first = list(all_outputs())
    assert first == list(all_outputs())


def test_different_salt_seed_gives_a_different_hash():
    one = HASH.findall(render_example("htcondor-worker", "cloud-init"))
    other = HASH.findall(render_example("htcondor-worker", "cloud-init", salt_seed=b"another revision"))
    assert one and other and one != other
