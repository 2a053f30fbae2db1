"""Which engine the app's default data lives in: one setting, read from the environment.

    HANDOFF_ENGINE=duckdb           (default) the demo, embedded, as always
    HANDOFF_ENGINE=spark            the canonical tables in a Spark catalog, over Spark Connect
    HANDOFF_SPARK_REMOTE=sc://127.0.0.1:15002   the Spark Connect endpoint
    HANDOFF_SPARK_DATABASE=handoff             the database (or catalog.database) holding them

Uploads are not affected: a file loaded in Spark mode becomes a version of the workspace, a
DuckDB database as in DuckDB mode, and is never written to the Spark catalog (to put files in
the catalog, use `python -m handoff.spark_load`). The Spark tables are what a workspace shows
while it has no data of its own.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, replace
from urllib.parse import urlparse

from handoff.db import Database

ENGINES = ("duckdb", "spark")
UPLOADS_IN_SPARK_MODE = (
    "Spark mode: the pages open on the Spark tables in {where} while this workspace has no "
    "data of its own. Files you load here become a version of the workspace in DuckDB, as "
    "always, and are not written to Spark; the Spark tables are not combined with them. To "
    "put files in the Spark catalog, use `python -m handoff.spark_load`.")


@dataclass(frozen=True)
class Settings:
    engine: str
    remote: str
    database: str

    @property
    def where(self) -> str:
        return f"{self.database} at {self.remote}"


def settings(env: dict[str, str] | None = None) -> Settings:
    """The engine settings; an unknown engine is an error that names the choices."""
    env = os.environ if env is None else env
    engine = env.get("HANDOFF_ENGINE", "duckdb").strip().lower() or "duckdb"
    if engine not in ENGINES:
        raise ValueError(f"HANDOFF_ENGINE={engine!r} is not one of {', '.join(ENGINES)}")
    remote = env.get("HANDOFF_SPARK_REMOTE", "sc://127.0.0.1:15002").strip()
    if engine == "spark" and not remote.startswith("sc://"):
        raise ValueError(f"HANDOFF_SPARK_REMOTE={remote!r} must be a Spark Connect address, "
                         "sc://host:port")
    return Settings(engine, remote, env.get("HANDOFF_SPARK_DATABASE", "handoff").strip())


def reachable(remote: str, timeout: float = 5.0) -> None:
    """Fail at once, naming the address, when nothing listens there (the Spark Connect
    client would retry for minutes before giving up)."""
    address = urlparse(remote)
    host, port = address.hostname or "", address.port or 15002
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return
    except OSError as e:
        raise RuntimeError(f"Spark Connect at {remote} cannot be reached ({e.strerror or e})"
                           ) from None


def default_database(s: Settings | None = None) -> Database:
    """What every session opens on: the demo (DuckDB), or the Spark database (shared by
    every session, never closed by one)."""
    s = s or settings()
    if s.engine == "duckdb":
        from handoff import demo

        return demo.demo_database(shared=True)
    from handoff import spark_db

    reachable(s.remote)
    try:
        spark = spark_db.session(s.remote)
    except Exception as e:  # noqa: BLE001 - gRPC and pyspark raise many kinds
        raise RuntimeError(f"Spark Connect at {s.remote} cannot be reached: "
                           f"{str(e).splitlines()[0]}") from e
    return replace(spark_db.spark_database(spark, s.database), shared=True)
