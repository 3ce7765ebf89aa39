"""The local cluster (stack/cluster.py): two Rasa servers and two action servers behind haproxy, sharing
Redis and PostgreSQL. Needs Debian's haproxy (`.ci/run` installs it): skipped with the install hint
elsewhere, failed in CI. Ports: the usual ones + 21000; Redis db 10; PostgreSQL database bianmin_cluster
(on BIANMIN_TEST_POSTGRES_URL's server), or SQLite when no PostgreSQL answers outside CI."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
import redis
import sqlalchemy

from bot.settings import load
from stack.cluster import Cluster, haproxy_binary
from stack.run import isolated_settings

POSTGRES_URL = os.environ.get("BIANMIN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
PORT_OFFSET, REDIS_DB = 21000, 10


def cluster_database() -> str:
    """A fresh PostgreSQL database for the cluster's tickets, or "" when none answers."""
    try:
        engine = sqlalchemy.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("DROP DATABASE IF EXISTS bianmin_cluster WITH (FORCE)"))
            connection.execute(sqlalchemy.text("CREATE DATABASE bianmin_cluster"))
        engine.dispose()
    except sqlalchemy.exc.SQLAlchemyError:
        return ""
    return POSTGRES_URL.rsplit("/", 1)[0] + "/bianmin_cluster"


def missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} (CI installs it)")
    pytest.skip(what)


@pytest.fixture(scope="session")
def cluster(redis_url):
    if haproxy_binary() is None:
        missing("haproxy is not installed: sudo apt-get install haproxy")
    database = cluster_database()
    if not database and os.environ.get("CI") == "true":
        pytest.fail(f"no PostgreSQL answers at {POSTGRES_URL}")
    var_dir = Path(tempfile.mkdtemp(prefix="bianmin-cluster-"))
    if (load().var_dir / "routing").is_dir():  # the fitted routing model (keyed by a hash of its inputs)
        shutil.copytree(load().var_dir / "routing", var_dir / "routing")
    settings = isolated_settings(load(), var_dir, port_offset=PORT_OFFSET, redis_db=REDIS_DB)
    settings = replace(
        settings,
        redis_url=redis_url.rsplit("/", 1)[0] + f"/{REDIS_DB}",
        database_url=database or settings.database_url,
        embeddings_cache=load().embeddings_cache,
    )
    redis.Redis.from_url(settings.redis_url).flushdb()
    running = Cluster(settings)
    running.start()
    try:
        yield running
    finally:
        running.stop()
