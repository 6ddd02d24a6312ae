"""Any document the schema accepts renders in every format; any it refuses gets messages."""

import subprocess

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from contexts.document import SCHEMA, validate
from contexts.render import FORMATS, render
from contexts.templating import sample_variables

DOCUMENTS = from_schema(SCHEMA)
SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
# `roles.<any name>` resolves, as when templates are checked at save time.
VARIABLES = sample_variables()


@SETTINGS
@given(DOCUMENTS)
def test_any_valid_document_renders_in_every_format(document):
    assume(validate(document) == [])
    for fmt in FORMATS:
        output = render(document, VARIABLES, fmt, salt_seed=b"property")
        assert isinstance(output, bytes) and output
    cloud_init = render(document, VARIABLES, salt_seed=b"property")
    if cloud_init.startswith(b"#cloud-config\n"):
        assert isinstance(yaml.safe_load(cloud_init), dict)
    shell = render(document, VARIABLES, "shell", salt_seed=b"property")
    assert subprocess.run(["sh", "-n"], input=shell, capture_output=True).returncode == 0


MUTATIONS = {
    "unknown section": lambda d: d | {"hostnames": "x"},
    "wrong schema version": lambda d: d | {"schema": 2},
    "line break in the hostname": lambda d: d | {"hostname": "a\nb"},
    "users as a text": lambda d: d | {"users": "alice"},
    "user without a name": lambda d: d | {"users": [{"gecos": "nobody"}]},
    "bad package name": lambda d: d | {"packages": ["rm -rf /"]},
    "relative file path": lambda d: d | {"files": [{"path": "etc/motd", "content": "x"}]},
    "unknown script language": lambda d: d | {"scripts": [{"name": "s", "body": "x", "language": "perl"}]},
    "condor without a role": lambda d: d | {"services": {"condor": {"master": "m"}}},
    "NUL in a file": lambda d: d | {"files": [{"path": "/x", "content": "a\x00b"}]},
}


@SETTINGS
@given(DOCUMENTS, st.sampled_from(sorted(MUTATIONS)))
def test_documents_violating_the_schema_get_messages_from_validate(document, mutation):
    assume(validate(document) == [])
    problems = validate(MUTATIONS[mutation](dict(document)))
    assert problems, mutation
    assert all(isinstance(p, str) and p and "\n" not in p for p in problems)
