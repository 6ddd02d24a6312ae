"""Hostile YAML costs the portal nothing: alias bombs, deep nesting, recursive aliases and text
that is not valid Unicode are refused with a plain message, fast, on the page as in parse_yaml."""

import math
import time

import pytest

from contexts.document import DocumentInvalid, parse_yaml, validate
from contexts.tests.profile_helpers import make_profile

# "Billion laughs" in 375 bytes: the aliases expand to 6 * 9**8 (258 million) strings.
ALIAS_BOMB = """\
schema: 1
cloud_config:
  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
  h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
  i: &i [*h,*h,*h,*h,*h,*h]
"""


def refusal(text: str, seconds: float = 1) -> list[str]:
    """The refusal's messages; the work it cost is this process's CPU time, which a busy machine
    does not inflate as it does the wall clock (CI saw 4.2 s of wall for a 1 s refusal)."""
    started = time.process_time()
    with pytest.raises(DocumentInvalid) as caught:
        parse_yaml(text)
    assert time.process_time() - started < seconds
    return caught.value.messages


def test_an_alias_bomb_is_refused_fast_with_a_plain_message():
    [message] = refusal(ALIAS_BOMB)
    assert "aliases" in message
    assert "50,000" in message


def test_a_merge_key_bomb_is_refused():
    text = "schema: 1\ncloud_config:\n  a: &a {k0: 1, k1: 2, k2: 3, k3: 4, k4: 5, k5: 6, k6: 7, k7: 8}\n"
    for previous, name in zip("abcdefg", "bcdefgh", strict=True):
        text += f"  {name}: &{name} {{<<: [{', '.join([f'*{previous}'] * 8)}]}}\n"
    [message] = refusal(text)
    assert "aliases" in message


def test_deep_nesting_is_refused_without_a_recursion_error():
    [message] = refusal("schema: 1\ncloud_config: {x: " + "[" * 100_000 + "]" * 100_000 + "}\n")
    assert "nested" in message


def test_nesting_over_the_limit_is_refused_and_under_it_is_not():
    assert parse_yaml("cloud_config: {x: " + "[" * 30 + "]" * 30 + "}\n")
    [message] = refusal("cloud_config: {x: " + "[" * 40 + "]" * 40 + "}\n")
    assert message == "line 1, column 49: nested too deeply (the limit is 32 levels)"


def test_an_alias_that_nests_too_deeply_where_it_is_used_is_refused():
    deep = "[" * 29 + "]" * 29
    assert parse_yaml(f"cloud_config:\n  a: &a {deep}\n")
    [message] = refusal(f"cloud_config:\n  a: &a {deep}\n  b: {{c: {{d: *a}}}}\n")
    assert message == "line 2, column 6: nested too deeply (the limit is 32 levels)"


def test_a_recursive_alias_is_refused():
    [message] = refusal("schema: 1\ncloud_config: &a {x: [*a]}\n")
    assert "refers to itself" in message


def test_a_lone_surrogate_is_refused_with_its_path():
    [message] = refusal('schema: 1\nenv:\n  GREETING: "hi \\ud800"\n')
    assert message == "env.GREETING: holds a lone surrogate (\\ud800), which is not valid Unicode text"


def test_a_nul_in_a_key_is_refused():
    [message] = refusal('schema: 1\ncloud_config:\n  "a\\0b": 1\n')
    assert message == "cloud_config: the key 'a\\x00b' holds a NUL character, which is not allowed"


def test_anchors_and_aliases_within_the_limits_still_work():
    text = "schema: 1\nusers:\n  - {name: alice, ssh_authorized_keys: &keys [ssh-ed25519 AAAA alice]}\n"
    text += "  - {name: bob, ssh_authorized_keys: *keys}\n"
    document = parse_yaml(text)
    assert document["users"][1]["ssh_authorized_keys"] == ["ssh-ed25519 AAAA alice"]
    assert validate(document) == []


def test_validate_refuses_a_lone_surrogate_in_a_document_from_elsewhere():
    problems = validate({"schema": 1, "env": {"A": "x\udfff"}})
    assert problems == ["env.A: holds a lone surrogate (\\udfff), which is not valid Unicode text"]


def test_validate_refuses_deep_nesting_before_the_schema():
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    assert validate({"schema": 1, "cloud_config": {"x": deep}}) == [
        "cloud_config.x" + "[0]" * 30 + ": nested too deeply (the limit is 32 levels)"
    ]


def test_validate_refuses_too_many_values():
    problems = validate({"schema": 1, "cloud_config": {"x": [0] * 60_000}})
    assert problems == ["the document has over 50,000 values; the limit is 50,000"]


def test_a_long_yaml_list_is_refused_as_soon_as_it_is_over_the_limit():
    # 250,000 values: reading stops at the limit, so the refusal costs about what reading 49,000
    # values does, measured in the same run (a ratio, as a busy machine slows both alike), not the
    # five times that reading to the end would.
    started = time.process_time()
    parse_yaml("schema: 1\ncloud_config: {x: [" + "1," * 49_000 + "]}\n")
    reading_to_the_limit = time.process_time() - started
    started = time.process_time()
    [message] = refusal("schema: 1\ncloud_config: {x: [" + "1," * 250_000 + "]}\n", seconds=math.inf)
    assert time.process_time() - started < 2.5 * reading_to_the_limit
    assert message == "the document has over 50,000 values; the limit is 50,000"


@pytest.mark.django_db
def test_the_yaml_page_refuses_an_alias_bomb_fast(alice_client, alice):
    profile = make_profile(alice)
    started = time.process_time()  # the page runs in this process: its CPU time, as in refusal()
    response = alice_client.post(f"/profiles/{profile.pk}/yaml/", {"document": ALIAS_BOMB})
    assert time.process_time() - started < 1
    assert response.status_code == 200
    assert "aliases" in response.content.decode()
    assert profile.revisions.count() == 1


@pytest.mark.django_db
def test_the_yaml_page_refuses_a_lone_surrogate(alice_client, alice):
    profile = make_profile(alice)
    text = 'schema: 1\nenv:\n  GREETING: "hi \\ud800"\n'
    response = alice_client.post(f"/profiles/{profile.pk}/yaml/", {"document": text})
    assert response.status_code == 200
    assert "lone surrogate" in response.content.decode()
    assert profile.revisions.count() == 1


@pytest.mark.django_db
def test_the_new_profile_page_refuses_a_lone_surrogate(alice_client, alice):
    text = 'schema: 1\nhostname: "{{ cluster.name }}"\nenv:\n  X: "\\udc00"\n'
    response = alice_client.post("/profiles/new/", {"name": "Bad", "visibility": "private", "document": text})
    assert response.status_code == 200
    assert "lone surrogate" in response.content.decode()
