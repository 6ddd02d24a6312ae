"""A stateful CloudStack API simulator — a TEST TOOL, never used by the portal itself (docs/testing.md).

No installable CloudStack simulator exists (the official one is Java in Docker), so this small
threaded HTTP server answers the commands libcloud's CloudStack driver sends to list, create, tag
and destroy virtual machines, with response shapes modelled on the recorded answers libcloud ships
in `libcloud/test/compute/fixtures/cloudstack/`. It behaves like CloudStack where it matters:

- every request is signed: HMAC-SHA1, keyed with the secret key, over the parameters sorted by
  name, values URL-encoded (spaces as %20), the whole string lower-cased; a wrong key or
  signature gets CloudStack's 401 answer;
- create, tag and destroy are asynchronous jobs polled with queryAsyncJobResult;
- a VM is Starting in its deploy job's result and Running once `boot_seconds` have passed (or
  `finish_boots()` was called);
- user-data must be base64 and at most 32 KiB encoded (the limit for an HTTP GET); what each VM
  received is kept, decoded, in `user_data[vm_id]`;
- VM names are host names, unique among live VMs;
- ids are deterministic (the same run makes the same ids);
- `fail_next_deploys(n, text)` makes the next n deploy jobs fail, as a full cloud does.

Run it by hand: `python -m clusters.testing.cloudstack_simulator --port 8096`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit

API_PATH = "/client/api"
DEFAULT_PAGE_SIZE = 500
USER_DATA_LIMIT = 32768  # base64 characters, for an HTTP GET
HOSTNAME = re.compile(r"^[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
BAD_SIGNATURE = "unable to verify user credentials and/or request signature"

ZONES = [{"name": "Simulated Zone 1", "networktype": "Basic", "securitygroupsenabled": False}]
OFFERINGS = [
    {"name": "Small Instance", "displaytext": "1 vCPU, 1 GB RAM", "cpunumber": 1, "memory": 1024},
    {"name": "Medium Instance", "displaytext": "2 vCPU, 4 GB RAM", "cpunumber": 2, "memory": 4096},
    {"name": "Large Instance", "displaytext": "4 vCPU, 8 GB RAM", "cpunumber": 4, "memory": 8192},
]
TEMPLATES = [
    {"name": "CernVM 4", "ostypename": "Other Linux (64-bit)", "size": 21474836480},
    {"name": "AlmaLinux 9", "ostypename": "Other Linux (64-bit)", "size": 10737418240},
]


def simulated_id(kind: str, number: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"cloudstack-simulator/{kind}/{number}"))


def signature_for(params: dict, secret_key: str) -> str:
    """CloudStack's request signature, as its API server checks it."""
    pairs = sorted((key.lower(), value) for key, value in params.items() if key.lower() != "signature")
    # Values encoded as Java's URLEncoder does (it leaves only letters, digits and "*-._"), spaces as %20.
    text = "&".join(f"{key}={quote(value, safe='*').replace('~', '%7E')}" for key, value in pairs).lower()
    digest = hmac.new(secret_key.encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class ApiError(Exception):
    def __init__(self, status: int, text: str, cs_code: int = 4350):
        super().__init__(text)
        self.status, self.text, self.cs_code = status, text, cs_code


def _invalid(command: str, name: str, value: str) -> ApiError:
    return ApiError(431, f"Unable to execute API command {command.lower()} due to invalid value. Invalid "
                         f"parameter {name} value={value} due to incorrect long value format, or entity does "
                         "not exist or due to incorrect parameter annotation for the field in api cmd class.")  # fmt: skip


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


class CloudStackSimulator:
    def __init__(self, api_key="simulator-api-key", secret_key="simulator-secret-key", host="127.0.0.1",  # noqa: S107
                 port=0, boot_seconds=0.0):  # fmt: skip
        self.api_key, self.secret_key = api_key, secret_key
        self.host, self.port, self.path = host, port, API_PATH
        self.boot_seconds = boot_seconds
        self.zones = [{**zone, "id": simulated_id("zone", n)} for n, zone in enumerate(ZONES, 1)]
        self.offerings = [{**o, "id": simulated_id("offering", n), "cpuspeed": 2000, "storagetype": "shared",
                           "offerha": False, "created": "2024-01-01T00:00:00+0000"}
                          for n, o in enumerate(OFFERINGS, 1)]  # fmt: skip
        self.templates = [{**t, "id": simulated_id("template", n), "displaytext": t["name"], "ispublic": True,
                           "isready": True, "passwordenabled": False, "format": "QCOW2", "hypervisor": "KVM",
                           "zoneid": self.zones[0]["id"], "zonename": self.zones[0]["name"],
                           "created": "2024-01-01T00:00:00+0000", "templatetype": "USER"}
                          for n, t in enumerate(TEMPLATES, 1)]  # fmt: skip
        self._lock = threading.Lock()
        self._server = None
        self.reset()

    # Control, for tests.
    def reset(self) -> None:
        with self._lock:
            self.vms: dict[str, dict] = {}
            self.user_data: dict[str, bytes] = {}
            self.jobs: dict[str, dict] = {}
            self.commands: list[str] = []  # every command received, in order
            self._counter = 0
            self._failures: list[tuple[str, int]] = []

    def fail_next_deploys(self, count: int = 1, text: str = "Insufficient capacity", code: int = 533) -> None:
        with self._lock:
            self._failures.extend([(text, code)] * count)

    def finish_boots(self) -> None:
        """Every VM still booting is Running from now on, as if its `boot_seconds` had passed."""
        with self._lock:
            now = time.monotonic()
            for vm in self.vms.values():
                vm["boots_at"] = min(vm["boots_at"], now)

    # Server life.
    def start(self) -> CloudStackSimulator:
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self._answer("")

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                self._answer(self.rfile.read(length).decode("utf-8"))

            def _answer(self, body: str):
                url = urlsplit(self.path)
                if url.path != simulator.path:
                    status, payload = 404, {"errorresponse": {"errorcode": 404, "errortext": "not found"}}
                else:
                    params = dict(parse_qsl(url.query, keep_blank_values=True))
                    params.update(parse_qsl(body, keep_blank_values=True))
                    status, payload = simulator.handle(params)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format, *args):  # quiet in tests
                pass

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="cloudstack-simulator",
                         daemon=True).start()  # fmt: skip
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"

    # The API.
    def handle(self, params: dict) -> tuple[int, dict]:
        command = params.get("command", "")
        key = f"{command.lower()}response"
        if params.get("apiKey") != self.api_key or not hmac.compare_digest(
            params.get("signature", ""), signature_for(params, self.secret_key)
        ):
            return 401, {key: {"uuidList": [], "errorcode": 401, "errortext": BAD_SIGNATURE}}
        handler = {
            "listZones": self._listZones,
            "listServiceOfferings": self._listServiceOfferings,
            "listTemplates": self._listTemplates,
            "listVirtualMachines": self._listVirtualMachines,
            "listPublicIpAddresses": self._listPublicIpAddresses,
            "listPortForwardingRules": self._listPortForwardingRules,
            "listIpForwardingRules": self._listIpForwardingRules,
            "deployVirtualMachine": self._deployVirtualMachine,
            "destroyVirtualMachine": self._destroyVirtualMachine,
            "createTags": self._createTags,
            "queryAsyncJobResult": self._queryAsyncJobResult,
        }.get(command)
        if handler is None:
            text = "The given command does not exist or it is not available for user"
            return 432, {key: {"uuidList": [], "errorcode": 432, "cserrorcode": 9999, "errortext": text}}
        try:
            with self._lock:
                self.commands.append(command)
                return 200, {key: handler(params)}
        except ApiError as error:
            return error.status, {key: {"uuidList": [], "errorcode": error.status, "cserrorcode": error.cs_code,
                                        "errortext": error.text}}  # fmt: skip

    def _listing(self, name: str, items: list, params: dict) -> dict:
        """One page of a list, as CloudStack pages them (default.page.size is 500)."""
        try:
            page, size = int(params.get("page", 1)), int(params.get("pagesize", DEFAULT_PAGE_SIZE))
        except ValueError:
            raise ApiError(431, "Unable to execute API command due to invalid value for page or pagesize")
        shown = items[(page - 1) * size : page * size]
        return {"count": len(items), name: shown} if shown else {}

    def _listZones(self, params):
        return self._listing("zone", self.zones, params)

    def _listServiceOfferings(self, params):
        return self._listing("serviceoffering", self.offerings, params)

    def _listTemplates(self, params):
        if "templatefilter" not in params:
            raise ApiError(
                431, "Unable to execute API command listtemplates due to missing parameter templatefilter"
            )
        return self._listing("template", self.templates, params)

    def _listVirtualMachines(self, params):
        vms = [self._vm_view(vm) for vm in self.vms.values()]
        if "id" in params:
            vms = [vm for vm in vms if vm["id"] == params["id"]]
        if "name" in params:
            vms = [vm for vm in vms if vm["name"] == params["name"]]
        for key, value in _indexed_tags(params).items():
            vms = [vm for vm in vms if {"key": key, "value": value} in vm["tags"]]
        return self._listing("virtualmachine", vms, params)

    def _listPublicIpAddresses(self, params):
        addresses = [
            {"id": simulated_id("ip", vm["number"]), "ipaddress": vm["public_ip"], "virtualmachineid": vm["id"],
             "virtualmachinename": vm["name"], "allocated": vm["created"], "zoneid": vm["zoneid"],
             "zonename": vm["zonename"], "issourcenat": False, "isstaticnat": True, "state": "Allocated",
             "forvirtualnetwork": True}
            for vm in self.vms.values()
        ]  # fmt: skip
        return self._listing("publicipaddress", addresses, params)

    def _listPortForwardingRules(self, params):
        return {}

    def _listIpForwardingRules(self, params):
        return {}

    def _deployVirtualMachine(self, params):
        command = "deployVirtualMachine"
        for name in ("serviceofferingid", "templateid", "zoneid"):
            if not params.get(name):
                raise ApiError(
                    431, f"Unable to execute API command deployvirtualmachine due to missing parameter {name}"
                )
        offering = _find(self.offerings, params["serviceofferingid"]) or _raise(
            _invalid(command, "serviceofferingid", params["serviceofferingid"])
        )
        template = _find(self.templates, params["templateid"]) or _raise(
            _invalid(command, "templateid", params["templateid"])
        )
        zone = _find(self.zones, params["zoneid"]) or _raise(_invalid(command, "zoneid", params["zoneid"]))  # fmt: skip
        user_data = _decode_user_data(params.get("userdata", ""))
        self._counter += 1
        number = self._counter
        name = params.get("name") or f"VM-{simulated_id('vm', number)}"
        if not HOSTNAME.match(name):
            raise ApiError(431, "Invalid name. Vm name can contain ASCII letters 'a' through 'z', the digits '0' "
                                "through '9', and the hyphen ('-'), must be between 1 and 63 characters long, and "
                                "can't start or end with \"-\" and can't start with digit")  # fmt: skip
        if any(vm["name"].lower() == name.lower() for vm in self.vms.values()):
            raise ApiError(431, f"The vm with hostName {name} already exists in the network domain: "
                                "cs1cloud.internal; network=Simulated Network")  # fmt: skip
        if self._failures:
            text, code = self._failures.pop(0)
            return self._job(command, None, error=(text, code))
        vm = {
            "id": simulated_id("vm", number), "number": number, "name": name,
            "displayname": params.get("displayname") or name, "account": "simulator", "domain": "ROOT",
            "created": _now(), "haenable": False, "zoneid": zone["id"], "zonename": zone["name"],
            "templateid": template["id"], "templatename": template["name"],
            "templatedisplaytext": template["displaytext"], "passwordenabled": False,
            "serviceofferingid": offering["id"], "serviceofferingname": offering["name"],
            "cpunumber": offering["cpunumber"], "cpuspeed": offering["cpuspeed"], "memory": offering["memory"],
            "hypervisor": "KVM", "securitygroup": [], "tags": [],
            "nic": [{"id": simulated_id("nic", number), "networkid": simulated_id("network", 1),
                     "netmask": "255.255.0.0", "gateway": "10.1.0.1",
                     "ipaddress": f"10.1.{number // 250}.{number % 250 + 2}", "traffictype": "Guest",
                     "type": "Shared", "isdefault": True, "macaddress": f"02:00:00:00:{number // 256 % 256:02x}:{number % 256:02x}"}],
            "public_ip": f"198.{18 + number // 65536 % 2}.{number // 256 % 256}.{number % 256}",
            "stopped": params.get("startvm", "true").lower() == "false",
            "boots_at": time.monotonic() + self.boot_seconds,
        }  # fmt: skip
        self.vms[vm["id"]] = vm
        self.user_data[vm["id"]] = user_data
        result = self._vm_view(vm)
        if not vm["stopped"]:
            result["state"] = "Starting"
        return self._job(command, {"virtualmachine": result}, vm_id=vm["id"])

    def _destroyVirtualMachine(self, params):
        vm = self.vms.pop(params.get("id", ""), None) or _raise(
            _invalid("destroyVirtualMachine", "id", params.get("id", ""))
        )
        return self._job("destroyVirtualMachine", {"virtualmachine": {**self._vm_view(vm), "state": "Destroyed"}},
                         vm_id=vm["id"])  # fmt: skip

    def _createTags(self, params):
        if params.get("resourcetype") != "UserVm":
            raise _invalid("createTags", "resourcetype", params.get("resourcetype", ""))
        tags = _indexed_tags(params)
        ids = [vm_id for vm_id in params.get("resourceids", "").split(",") if vm_id]
        for vm_id in ids:
            if vm_id not in self.vms:
                raise _invalid("createTags", "resourceids", vm_id)
        for vm_id in ids:
            vm_tags = {tag["key"]: tag["value"] for tag in self.vms[vm_id]["tags"]}
            vm_tags.update(tags)
            self.vms[vm_id]["tags"] = [{"key": key, "value": value} for key, value in vm_tags.items()]
        return self._job("createTags", {"success": True})

    def _queryAsyncJobResult(self, params):
        job = self.jobs.get(params.get("jobid", "")) or _raise(
            _invalid("queryAsyncJobResult", "jobid", params.get("jobid", ""))
        )
        return job

    # Helpers.
    def _job(self, command, result, *, vm_id=None, error=None) -> dict:
        job_id = simulated_id("job", len(self.jobs) + 1)
        job = {"jobid": job_id, "cmd": f"org.apache.cloudstack.api.command.user.{command}Cmd", "created": _now(),
               "jobprocstatus": 0, "jobresulttype": "object"}  # fmt: skip
        if error:
            text, code = error
            job.update(jobstatus=2, jobresultcode=530, jobresult={"errorcode": code, "errortext": text})
        else:
            job.update(jobstatus=1, jobresultcode=0, jobresult=result)
        self.jobs[job_id] = job
        return {"jobid": job_id, "id": vm_id} if vm_id else {"jobid": job_id}

    def _vm_view(self, vm: dict) -> dict:
        """The VM as the API shows it, without the simulator's own bookkeeping."""
        if vm["stopped"]:
            state = "Stopped"
        else:
            state = "Running" if time.monotonic() >= vm["boots_at"] else "Starting"
        hidden = {"number", "public_ip", "stopped", "boots_at"}
        return {**{key: value for key, value in vm.items() if key not in hidden}, "state": state}


def _find(items: list, item_id: str):
    return next((item for item in items if item["id"] == item_id), None)


def _raise(error: Exception):
    raise error


def _indexed_tags(params: dict) -> dict:
    """{"tags[0].key": "a", "tags[0].value": "b"} -> {"a": "b"}."""
    found: dict[str, dict] = {}
    for name, value in params.items():
        match = re.fullmatch(r"tags\[(\d+)\]\.(key|value)", name, flags=re.IGNORECASE)
        if match:
            found.setdefault(match[1], {})[match[2].lower()] = value
    return {tag["key"]: tag.get("value", "") for tag in found.values() if "key" in tag}


def _decode_user_data(text: str) -> bytes:
    if len(text) > USER_DATA_LIMIT:
        raise ApiError(431, "User data is too long for an http GET request", cs_code=4350)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(431, "User data is not base64 encoded", cs_code=4350)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="A CloudStack API simulator for tests.")
    parser.add_argument("--port", type=int, default=8096)
    parser.add_argument("--api-key", default="simulator-api-key")
    parser.add_argument("--secret-key", default="simulator-secret-key")
    arguments = parser.parse_args()
    simulator = CloudStackSimulator(arguments.api_key, arguments.secret_key, port=arguments.port).start()
    print(f"CloudStack simulator at {simulator.url} (api key {arguments.api_key})", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        simulator.stop()
