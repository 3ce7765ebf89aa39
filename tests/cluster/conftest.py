"""The local cluster (stack/cluster.py): two Rasa servers and two action servers behind haproxy, sharing
Redis and PostgreSQL. Needs Debian's haproxy (`.ci/run` installs it): skipped with the install hint
elsewhere, failed in CI. Ports: the usual ones + 21000; its own Redis on 6379 + 21000 (the fault tests
restart it); PostgreSQL database bianmin_cluster (on BIANMIN_TEST_POSTGRES_URL's server), or SQLite when no
PostgreSQL answers outside CI. Started once for all the tests in this folder (it takes minutes): each test
leaves the cluster serving."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy

from bot.settings import load
from stack.cluster import Cluster, haproxy_binary
from stack.run import isolated_settings

POSTGRES_URL = os.environ.get("BIANMIN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
PORT_OFFSET = 21000


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


@pytest.fixture(scope="module")
def cluster():
    if haproxy_binary() is None:
        missing("haproxy is not installed: sudo apt-get install haproxy")
    database = cluster_database()
    if not database and os.environ.get("CI") == "true":
        pytest.fail(f"no PostgreSQL answers at {POSTGRES_URL}")
    var_dir = Path(tempfile.mkdtemp(prefix="bianmin-cluster-"))
    if (load().var_dir / "routing").is_dir():  # the fitted routing model (keyed by a hash of its inputs)
        shutil.copytree(load().var_dir / "routing", var_dir / "routing")
    settings = isolated_settings(load(), var_dir, port_offset=PORT_OFFSET, redis_db=0)
    settings = replace(
        settings,
        redis_url=f"redis://127.0.0.1:{6379 + PORT_OFFSET}/0",
        database_url=database or settings.database_url,
        embeddings_cache=load().embeddings_cache,
    )
    # debug logging in the Rasa servers: what they write must still hold no citizen's phone (test_cluster.py)
    running = Cluster(settings, own_redis=True, extra_env={"LOG_LEVEL": "DEBUG"})
    running.start()
    try:
        yield running
    finally:
        running.stop()
