"""The services of deploy/compose.yaml run as plain processes on this machine, for where no container
runtime is usable (portal/tests/test_deploy_compose.py, docs/deploy.md, "Without containers").

Only the portal's own services (those built from the Dockerfile: migrate, web, worker, beat) are
run, each with its own `command:` and `environment:` as compose would give them: variables
interpolated from the .env file (`${NAME}`, `${NAME:-default}`, `${NAME:?message}`, `$$`), the
.env file itself as `env_file:`, in the order of `depends_on` (a service others wait for with
`service_completed_successfully` runs to its end first). The image services (postgres, redis)
are the caller's: `overrides` point the portal at them, as compose's service names would.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from portal.testing.waits import stop

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "deploy" / "compose.yaml"
_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


class ComposeError(Exception):
    pass


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines, as compose reads an .env file (comments and blank lines skipped)."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def interpolate(text: str, variables: dict[str, str]) -> str:
    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        operator, argument = match.group(2), match.group(3) or ""
        value = variables.get(name)
        empty = value is None or (operator and operator.startswith(":") and value == "")
        if operator and operator.endswith("-") and empty:
            return argument
        if operator and operator.endswith("?") and empty:
            raise ComposeError(f"{name}: {argument}")
        return value or ""

    return _VARIABLE.sub(replace, text)


def _interpolated(value, variables):
    if isinstance(value, str):
        return interpolate(value, variables)
    if isinstance(value, list):
        return [_interpolated(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: _interpolated(item, variables) for key, item in value.items()}
    return value


@dataclass
class ComposeProcesses:
    env_file: Path
    log_dir: Path
    # Environment given to every process last: where this machine's PostgreSQL and Redis are.
    overrides: dict[str, str] = field(default_factory=dict)
    # Variables for interpolation on top of the .env file's (WEB_BIND, BEAT_SCHEDULE...).
    variables: dict[str, str] = field(default_factory=dict)
    compose_file: Path = COMPOSE_FILE
    running: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self):
        dotenv = read_env_file(self.env_file)
        self.services = _interpolated(yaml.safe_load(self.compose_file.read_text())["services"],
                                      {**dotenv, **self.variables})  # fmt: skip
        self.dotenv = dotenv

    def portal_services(self) -> list[str]:
        """The services built from the portal's Dockerfile, in the order depends_on gives."""
        ours = [name for name, service in self.services.items() if "build" in service]
        ordered: list[str] = []

        def visit(name):
            if name in ordered or name not in ours:
                return
            for needed in self.services[name].get("depends_on") or {}:
                visit(needed)
            ordered.append(name)

        for name in ours:
            visit(name)
        return ordered

    def one_shots(self) -> set[str]:
        return {
            needed
            for service in self.services.values()
            for needed, condition in (service.get("depends_on") or {}).items()
            if isinstance(condition, dict) and condition.get("condition") == "service_completed_successfully"
        }

    def environment(self, name: str) -> dict[str, str]:
        service = self.services[name]
        environment = dict(os.environ)
        if service.get("env_file"):
            environment.update(self.dotenv)
        declared = service.get("environment") or {}
        if isinstance(declared, list):
            declared = dict(item.split("=", 1) for item in declared)
        environment.update({key: str(value) for key, value in declared.items()})
        environment.update(self.overrides)
        return environment

    def command(self, name: str) -> list[str]:
        command = self.services[name]["command"]
        return command if isinstance(command, list) else ["sh", "-c", command]

    def run(self, name: str, *command: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """Like `docker compose run --rm NAME COMMAND`: one command with the service's environment."""
        return subprocess.run(list(command) or self.command(name), cwd=ROOT, env=self.environment(name),
                              capture_output=True, text=True, timeout=timeout)  # fmt: skip

    def up(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        one_shots = self.one_shots()
        for name in self.portal_services():
            if name in one_shots:
                result = self.run(name)
                (self.log_dir / f"{name}.log").write_text(result.stdout + result.stderr)
                if result.returncode != 0:
                    raise ComposeError(f"{name} exited {result.returncode}: {result.stderr[-2000:]}")
                continue
            with open(self.log_dir / f"{name}.log", "wb") as log:
                self.running[name] = subprocess.Popen(self.command(name), cwd=ROOT, env=self.environment(name),
                                                      stdout=log, stderr=subprocess.STDOUT)  # fmt: skip

    def down(self) -> None:
        for process in reversed(list(self.running.values())):
            stop(process)
        self.running.clear()
