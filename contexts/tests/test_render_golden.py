"""Every example rendered in every format equals its reviewed golden file.

The golden files are the specification of the output. After an intended change, regenerate them
with `UPDATE_GOLDEN=1 pytest contexts/tests/test_render_golden.py` and review the diff.
"""

import os
from pathlib import Path

import pytest

from contexts.document import validate
from contexts.render import FORMATS
from contexts.tests.render_samples import EXAMPLES, example, render_example

GOLDEN_DIR = Path(__file__).parent / "golden"


def test_the_five_examples_are_there():
    assert EXAMPLES == ["cvmfs-desktop", "htcondor-master", "htcondor-worker", "mpi-node", "puppet-web"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_is_a_valid_document(name):
    assert validate(example(name)) == []


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", EXAMPLES)
def test_example_matches_its_golden_file(name, fmt):
    output = render_example(name, fmt)
    golden = GOLDEN_DIR / f"{name}.{fmt}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_bytes(output)
    assert golden.exists(), f"no golden file {golden.name}; run with UPDATE_GOLDEN=1 and review it"
    assert output == golden.read_bytes(), f"{name} ({fmt}) differs from {golden.name}"


def test_htcondor_worker_gets_the_master_address_and_its_own_hostname():
    output = render_example("htcondor-worker", "cloud-init").decode()
    assert "hostname: demo-worker-3\n" in output
    assert "CONDOR_HOST = 10.0.0.5\n" in output
    assert "DAEMON_LIST = MASTER, STARTD\n" in output


def test_mpi_hostfile_lists_every_address_of_the_named_roles_with_slots():
    output = render_example("mpi-node", "shell").decode()
    assert "10.0.0.5 slots=4\n10.0.0.6 slots=4\n10.0.0.7 slots=4\n" in output
