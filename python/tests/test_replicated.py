"""Contention on a replicated (R3) NATS bucket: the cluster's refusals of a compare-and-set are
conflicts, so contending threads wait for the lock and never see a BackendError."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest

import fencelock
from natsserver import NatsCluster

CLIENTS = 2
THREADS_PER_CLIENT = 3
ROUNDS = 15


@pytest.fixture(scope="module")
def cluster() -> Iterator[NatsCluster]:
    c = NatsCluster()
    yield c
    c.stop()


def test_two_clients_with_several_threads_count_exactly_on_r3(cluster: NatsCluster) -> None:
    namespace = "py-r3-" + uuid.uuid4().hex[:12]
    clients = [
        fencelock.connect(cluster.url, namespace=namespace, replication=3)
        for _ in range(CLIENTS)
    ]
    errors: list[BaseException] = []

    def work(c: fencelock.Client) -> None:
        for _ in range(ROUNDS):
            try:
                with c.lock("counter", timeout=30) as g:
                    g.state = (g.state or 0) + 1
            except BaseException as e:  # noqa: BLE001 - every failure is reported below
                errors.append(e)

    threads = [
        threading.Thread(target=work, args=(c,))
        for c in clients
        for _ in range(THREADS_PER_CLIENT)
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors[:3]
        assert clients[0].get("counter").state == CLIENTS * THREADS_PER_CLIENT * ROUNDS
    finally:
        for c in clients:
            c.close()
