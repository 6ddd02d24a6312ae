"""End to end: `sh pair.sh` on a "VM" against a live portal, paired by a user on /pair/."""

import os
import queue
import re
import subprocess
import threading
import time
import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone

from contexts.models import PairingRequest
from contexts.pairing import paired_variables
from contexts.profiles import render_revision
from contexts.tests.pairing_helpers import no_wrong_pins_counted  # noqa: F401
from contexts.tests.profile_helpers import make_profile
from contexts.views_pairing import PAIR_SCRIPT


def fetch_script(live_server, tmp_path):
    with urllib.request.urlopen(f"{live_server.url}/agent/pair.sh") as response:
        assert response.headers["Content-Type"].startswith("text/x-shellscript")
        script = tmp_path / "pair.sh"
        script.write_bytes(response.read())
    assert subprocess.run(["sh", "-n", script], check=False).returncode == 0
    return script


class ScriptRun:
    """`sh pair.sh` as a VM runs it, its output read line by line as it goes."""

    def __init__(self, script, live_server, out, *args, apply=False, env=None):
        env = {**os.environ, "PAIR_POLL_SECONDS": "0.2", **(env or {})}
        no_apply = [] if apply else ["--no-apply"]
        command = ["/bin/sh", str(script), live_server.url, "--out", str(out), *no_apply, *args]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True
        )
        self.lines = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in iter(self.process.stdout.readline, ""):
            self.lines.put(line)

    def pin(self, timeout=60) -> str:
        seen = ""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            seen += line
            if match := re.fullmatch(r"PIN: ([A-Z0-9]{8})\n", line):
                return match.group(1)
        self.process.kill()
        raise AssertionError(f"no PIN from pair.sh:\n{seen}\n{self.process.stderr.read()}")

    def finish(self, timeout=30) -> tuple[int, str, str]:
        """The exit status, the rest of stdout and stderr."""
        self.process.wait(timeout=timeout)
        self.reader.join(timeout=5)
        stdout = "".join(self.lines.queue)
        return self.process.returncode, stdout, self.process.stderr.read()


@pytest.mark.django_db(transaction=True)
def test_a_vm_pairs_by_pin_and_gets_its_user_data(live_server, alice, alice_client, tmp_path):
    profile = make_profile(alice)
    script = fetch_script(live_server, tmp_path)
    out = tmp_path / "state" / "user-data"
    vm = ScriptRun(script, live_server, out, "--format", "shell")
    pin = vm.pin()

    response = alice_client.post("/pair/", {"pin": pin, "profile": profile.pk, "format": ""})
    assert response.status_code == 302

    status, stdout, stderr = vm.finish()
    assert status == 0, stderr
    assert f"Paired: the user-data is in {out}" in stdout
    pairing = PairingRequest.objects.get(pin=pin)
    assert pairing.address == "127.0.0.1"
    assert out.read_bytes() == render_revision(profile.latest, paired_variables(pairing), "shell")
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert pairing.collected_at is not None


@pytest.mark.django_db(transaction=True)
def test_an_expired_pin_stops_the_script_with_a_clear_message(live_server, tmp_path):
    script = fetch_script(live_server, tmp_path)
    out = tmp_path / "user-data"
    vm = ScriptRun(script, live_server, out)
    pin = vm.pin()
    PairingRequest.objects.filter(pin=pin).update(expires_at=timezone.now() - timedelta(seconds=1))
    status, _, stderr = vm.finish()
    assert status == 1
    assert "The PIN expired before anyone paired it" in stderr
    assert "run pair.sh again for a new PIN" in stderr
    assert not out.exists()


def test_a_script_started_without_a_portal_says_how_to_use_it():
    result = subprocess.run(["sh", str(PAIR_SCRIPT)], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "usage: sh pair.sh PORTAL_URL" in result.stderr


def test_an_unreachable_portal_is_a_clear_error(tmp_path):
    result = subprocess.run(
        ["sh", str(PAIR_SCRIPT), "http://127.0.0.1:9", "--out", str(tmp_path / "u"), "--no-apply"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert result.returncode == 1
    assert "cannot reach the portal at http://127.0.0.1:9" in result.stderr


# CernVM's amiconfig.sh, standing in: it records how it was called and what it found where
# CernVM's copy looks first (`RetrieveUserDataCvmOnline`), and whether a context URL was set.
FAKE_AMICONFIG_SH = """#!/bin/sh
printf '%s\\n' "$*" >"$FAKE_LOG"
printf 'url=%s\\n' "${AMICONFIG_CONTEXT_URL:-}" >>"$FAKE_LOG"
cp "$AMICONFIG_ONLINE_DIR/user-data" "$FAKE_LOG.user-data"
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="pair.sh applies user-data as root only")
@pytest.mark.django_db(transaction=True)
def test_amiconfig_user_data_goes_where_cernvm_reads_it_and_amiconfig_applies_it_now(
    live_server, alice, alice_client, tmp_path
):
    profile = make_profile(alice)
    script = fetch_script(live_server, tmp_path)
    fake = tmp_path / "amiconfig.sh"
    fake.write_text(FAKE_AMICONFIG_SH)
    fake.chmod(0o755)
    online = tmp_path / "amiconfig-online" / "2007-12-15"
    log = tmp_path / "amiconfig.log"
    # pair.sh runs shell user-data with `sh` from PATH: a stand-in makes sure that a pair.sh
    # mistaking this user-data for a shell script never runs it on this machine.
    guard = tmp_path / "bin"
    guard.mkdir()
    (guard / "sh").write_text('#!/bin/sh\necho "ran as a shell script: $*" >>"$FAKE_LOG"\n')
    (guard / "sh").chmod(0o755)
    env = {
        "AMICONFIG_SH": str(fake),
        "AMICONFIG_ONLINE_DIR": str(online),
        "FAKE_LOG": str(log),
        "AMICONFIG_CONTEXT_URL": "http://169.254.169.254/2007-12-15/",
        "PATH": f"{guard}:{os.environ['PATH']}",
    }
    vm = ScriptRun(script, live_server, tmp_path / "user-data", "--format", "amiconfig", apply=True, env=env)
    pin = vm.pin()
    alice_client.post("/pair/", {"pin": pin, "profile": profile.pk, "format": ""})

    status, stdout, stderr = vm.finish()
    assert status == 0, stderr
    pairing = PairingRequest.objects.get(pin=pin)
    expected = render_revision(profile.latest, paired_variables(pairing), "amiconfig")
    assert expected.startswith(b"#!/bin/sh\n"), "the profile's user-data has an sh part, as most do"
    assert (online / "user-data").read_bytes() == expected
    assert oct((online / "user-data").stat().st_mode & 0o777) == "0o600"
    assert log.read_text() == "user --force\nurl=\n"
    assert (tmp_path / "amiconfig.log.user-data").read_bytes() == expected
    assert "Applied." in stdout
