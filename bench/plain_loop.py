"""The plain loop the portal's launch is measured against: the portal's own EC2 provider
(clusters/providers) making one node per call, with the portal's tags, ClientToken and user-data
size, in N processes that each take the next create as soon as they are free (as N worker
processes take the next message). No database, no broker, no look-up: the cloud API's own speed.

Each process builds its provider once and keeps it, as a plain script would; the processes are
started and warmed before the clock starts.
"""

from __future__ import annotations

import multiprocessing
import os
import time

from clusters.providers import CloudConfig, CloudError, NodeSpec, get_provider

_provider = None
_template: dict = {}


def _start(config: CloudConfig, size_id: str, image_id: str, user_data: bytes) -> None:
    global _provider
    _provider = get_provider(config)
    _provider.driver  # noqa: B018 - built now, not inside the timed loop
    _template.update(size_id=size_id, image_id=image_id, user_data=user_data)


def _pid(_index: int) -> int:
    time.sleep(0.05)  # long enough that every process of the pool takes one
    return os.getpid()


def create(job: tuple[str, str, dict]) -> tuple[str, str, str]:
    """(token, node id, error) of one create."""
    name, token, tags = job
    try:
        node = _provider.create_node(NodeSpec(name=name, tags=tags, idempotency_token=token, **_template))
    except CloudError as exc:
        return token, "", exc.message
    return token, node.id, ""


class PlainLoop:
    """A pool of `processes` processes, ready to create nodes on the cloud of `config`."""

    def __init__(self, processes: int, config: CloudConfig, *, size_id: str, image_id: str, user_data: bytes):
        context = multiprocessing.get_context("spawn")  # nothing of this process's Django or sockets
        self.processes = processes
        self.pool = context.Pool(
            processes, initializer=_start, initargs=(config, size_id, image_id, user_data)
        )
        started = set()
        while len(started) < processes:
            started |= set(self.pool.map(_pid, range(processes * 2), chunksize=1))

    def run(self, jobs: list[tuple[str, str, dict]]) -> list[tuple[str, str, str]]:
        return list(self.pool.imap_unordered(create, jobs, chunksize=1))

    def close(self) -> None:
        self.pool.close()
        self.pool.join()
