"""Many threads of one process contending for one key; the GIL is free while they wait."""

from __future__ import annotations

import threading
import time

import fencelock

THREADS = 8
ROUNDS = 15


def test_threads_contending_count_exactly(client: fencelock.Client) -> None:
    errors: list[BaseException] = []
    tokens: list[int] = []

    def work() -> None:
        try:
            for _ in range(ROUNDS):
                with client.lock("counter", timeout=30) as g:
                    n = g.state or 0
                    tokens.append(g.token)
                    g.state = n + 1
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert client.get("counter").state == THREADS * ROUNDS
    assert len(set(tokens)) == len(tokens)


def test_with_lock_from_threads_of_two_clients(backend_url: str, namespace: str) -> None:
    with fencelock.connect(backend_url, namespace=namespace) as a, fencelock.connect(
        backend_url, namespace=namespace
    ) as b:
        threads = [
            threading.Thread(
                target=lambda c=c: [
                    c.with_lock("wl", lambda s: (s or 0) + 1, timeout=30) for _ in range(ROUNDS)
                ]
            )
            for c in (a, b, a, b)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert a.get("wl").state == 4 * ROUNDS


def test_gil_is_released_while_waiting(client: fencelock.Client) -> None:
    g = client.acquire("gil", timeout=5)
    spins = 0
    stop = threading.Event()

    def spin() -> None:
        nonlocal spins
        while not stop.is_set():
            spins += 1

    waiter = threading.Thread(target=lambda: client.acquire("gil", timeout=10).release())
    spinner = threading.Thread(target=spin)
    waiter.start()
    time.sleep(0.05)
    spinner.start()
    time.sleep(0.5)
    before = spins
    time.sleep(0.3)
    assert spins > before  # the spinner kept running while the waiter was blocked
    g.release()
    waiter.join(10)
    stop.set()
    spinner.join()
    assert not waiter.is_alive()
