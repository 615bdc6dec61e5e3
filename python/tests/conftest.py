from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

# Helper modules (the server runner, multiprocessing workers) import by plain name, also in
# spawned children, which inherit sys.path. The package itself must come from site-packages
# (the installed wheel), never from the source folder beside this one.
sys.path.insert(0, str(Path(__file__).parent))

import fencelock  # noqa: E402
from natsserver import NatsServer  # noqa: E402
from redisserver import RedisServer  # noqa: E402
from redisserver import binary as redis_binary  # noqa: E402

assert "site-packages" in (fencelock.__file__ or ""), (
    f"fencelock was imported from {fencelock.__file__}, not the installed wheel; run the "
    "tests with the venv's pytest executable from python/ (make -C python test)"
)


@pytest.fixture(scope="session")
def nats() -> Iterator[NatsServer]:
    server = NatsServer()
    yield server
    server.stop()


@pytest.fixture
def url(nats: NatsServer) -> str:
    return nats.url


@pytest.fixture
def namespace() -> str:
    """A fresh namespace (KV bucket) per test, so tests never see each other's keys."""
    return "py-" + uuid.uuid4().hex[:12]


@pytest.fixture(scope="session")
def redis() -> Iterator[RedisServer]:
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture(params=["nats", "redis", "memory"])
def backend_url(request: pytest.FixtureRequest, nats: NatsServer) -> str:
    """Runs a test against NATS, Redis and the in-process memory backend, as the core's
    conformance suite does."""
    if request.param == "nats":
        return nats.url
    if request.param == "redis":
        if redis_binary() is None:
            pytest.skip("redis-server not installed (scripts/ensure-redis)")
        server: RedisServer = request.getfixturevalue("redis")
        return server.url
    return "memory://"


@pytest.fixture
def client(backend_url: str, namespace: str) -> Iterator[fencelock.Client]:
    with fencelock.connect(backend_url, namespace=namespace) as c:
        yield c


@pytest.fixture
def nats_client(url: str, namespace: str) -> Iterator[fencelock.Client]:
    with fencelock.connect(url, namespace=namespace) as c:
        yield c


@pytest.fixture
async def aclient(backend_url: str, namespace: str) -> AsyncIterator[fencelock.AsyncClient]:
    async with await fencelock.connect_async(backend_url, namespace=namespace) as c:
        yield c
