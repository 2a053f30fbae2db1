"""The canonical tables in a Spark catalog, queried through Spark Connect.

The app holds only the thin `pyspark-client`: no JVM runs in its process. A `SparkDatabase`
is a `Database` whose queries run on a Spark Connect session (see `db.query`, still the one
path every query takes), with the same SQL transpiled by `spark_sql`. Timestamps are naive
on both engines (TIMESTAMP_NTZ on Spark, and the session's time zone is UTC), so a server's
time zone cannot move a date across a month boundary. Parameters are bound by Spark
(`args=`: literals, and lists as `array()` constructors), never formatted into the text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from handoff.db import Database, canonical_frame
from handoff.schema import TABLES, fields

SPARK_TYPES = {"text": "STRING", "timestamp": "TIMESTAMP_NTZ", "number": "DOUBLE",
               "integer": "BIGINT", "boolean": "BOOLEAN"}
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.ansi.enabled": "true",  # Spark 4's default, stated: errors, not silent NULLs
}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
# What the tables alone do not say (the amounts' currency), one row per setting, beside them
META = "handoff_meta"
CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")  # an ISO 4217 code, as the DuckDB load infers it
# pyspark's client logs every failed query as JSON on stderr; the error is raised anyway.
for _logger in ("pyspark", "py4j"):
    logging.getLogger(_logger).setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class SparkDatabase(Database):
    """Canonical tables in a Spark database; `connection` is unused (None)."""

    session: Any = None
    database: str = ""
    # canonical table → where this database reads it (`db.table`, or an empty stand-in view)
    tables: tuple[tuple[str, str], ...] = ()

    def close(self, shared_too: bool = False) -> None:
        if (shared_too or not self.shared) and not self._life.closed:
            self._life.closed = True
            self.session.stop()


def session(remote: str, conf: dict[str, str] | None = None) -> Any:
    """A new Spark Connect session on `remote` (sc://host:port) with naive timestamps (plus
    any further settings in `conf`)."""
    with warnings.catch_warnings():  # pyspark warns about pandas 3 on import; we test it
        warnings.simplefilter("ignore", FutureWarning)
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.remote(remote)
        for key, value in {**SESSION_CONF, **(conf or {})}.items():
            builder = builder.config(key, value)
        return builder.create()


def checked_name(name: str) -> str:
    """A database name from the settings, as an identifier (never SQL text)."""
    if not _NAME.match(name):
        raise ValueError(f"not a Spark database name: {name!r} (letters, digits and _, "
                         "optionally catalog.database)")
    return name


def struct_type(table: str) -> Any:
    """The Spark schema of a canonical table."""
    from pyspark.sql.types import _parse_datatype_string

    return _parse_datatype_string(", ".join(f"{f.name} {SPARK_TYPES[f.kind]}"
                                            for f in fields(table)))


def write_tables(spark: Any, database: str, tables: dict[str, pd.DataFrame],
                 chunk_rows: int = 250_000, currency: str | None = None) -> dict[str, int]:
    """Every canonical table written to `database` (replacing what was there; empty where
    none was given); rows written per table. Frames go through `canonical_frame`, the same
    typing the DuckDB load uses, and travel as Arrow batches of `chunk_rows`. The amounts'
    currency goes in the `handoff_meta` table, so Spark mode shows money as DuckDB does."""
    database = checked_name(database)
    unknown = set(tables) - set(TABLES)
    if unknown:
        raise ValueError(f"not canonical tables: {sorted(unknown)}")
    short = _use_catalog(spark, database)
    if not spark.catalog.databaseExists(short):
        spark.sql("CREATE DATABASE IF NOT EXISTS IDENTIFIER(:name)", args={"name": short})
    written: dict[str, int] = {}
    for table in TABLES:
        frame = tables.get(table)
        frame = canonical_frame(table, frame if frame is not None else pd.DataFrame())
        schema = struct_type(table)
        target = f"{short}.{table}"
        for start in range(0, max(len(frame), 1), chunk_rows):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                part = spark.createDataFrame(_records(frame.iloc[start:start + chunk_rows]),
                                             schema)
            part.write.mode("append" if start else "overwrite").saveAsTable(target)
        written[table] = len(frame)
    meta = pd.DataFrame({"key": ["currency"], "value": [currency]}, dtype=object)
    spark.createDataFrame(meta, "key STRING, value STRING").write.mode(
        "overwrite").saveAsTable(f"{short}.{META}")
    return written


def _currency(spark: Any, database: str) -> str | None:
    """The currency `write_tables` kept; None when unknown or not a currency code (the table
    is anyone's to write, so what it holds is checked)."""
    if not spark.catalog.tableExists(f"{database}.{META}"):
        return None
    kept = {r["key"]: r["value"] for r in spark.table(f"{database}.{META}").collect()}
    value = kept.get("currency")
    return value if isinstance(value, str) and CURRENCY_CODE.match(value) else None


def _use_catalog(spark: Any, database: str) -> str:
    """Switch to the catalog of `catalog.database` (if named); the database's own name."""
    if "." in database:
        spark.catalog.setCurrentCatalog(database.split(".")[0])
    return database.split(".")[-1]


def _records(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame in types Arrow carries to Spark unchanged (NA as None, µs timestamps)."""
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        s = frame[column]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[column] = s.astype("datetime64[us]")
        elif s.dtype == object or isinstance(s.dtype, (pd.StringDtype, pd.BooleanDtype,
                                                          pd.Int64Dtype)):
            out[column] = s.astype(object).where(s.notna(), None)
        else:
            out[column] = s
    return out.reset_index(drop=True)


def spark_database(spark: Any, database: str, name: str | None = None) -> SparkDatabase:
    """The canonical tables in `database`, checked, with their row counts, the fields that
    have values and a fingerprint of their content (one pass over each table). A missing
    table is an empty one, as in DuckDB; a table missing a column is an error naming both."""
    database = checked_name(database)
    counts: dict[str, int] = {}
    present: dict[str, frozenset[str]] = {}
    notes: list[str] = []
    where: dict[str, str] = {}
    digest = hashlib.sha256()
    for table in TABLES:
        qualified = f"{database}.{table}"
        if not spark.catalog.tableExists(qualified):
            # one empty stand-in per canonical table, the same for every database: sharing
            # it across databases on one session is harmless
            where[table] = f"handoff_empty_{table}"
            spark.createDataFrame([], struct_type(table)).createOrReplaceTempView(where[table])
            counts[table], present[table] = 0, frozenset()
            notes.append(f"Spark database {database} has no {table} table: counted as empty.")
            continue
        where[table] = qualified
        have = {c.name.lower() for c in spark.table(qualified).schema}
        missing = [f.name for f in fields(table) if f.name not in have]
        if missing:
            raise ValueError(f"the Spark table {database}.{table} lacks the column(s) "
                             f"{', '.join(missing)}: load it with `python -m handoff.spark_load`"
                             " or publish a view with those names")
        frame = spark.table(qualified)
        from pyspark.sql import functions as F

        stats = frame.agg(F.count(F.lit(1)).alias("rows"),
                          F.coalesce(F.sum(F.hash(*[F.col(f.name) for f in fields(table)])
                                           .cast("bigint")), F.lit(0)).alias("checksum"),
                          *[F.count(F.col(f.name)).alias(f.name) for f in fields(table)])
        stats = _pandas(stats).iloc[0]
        counts[table] = int(stats["rows"])
        present[table] = frozenset(f.name for f in fields(table) if int(stats[f.name]) > 0)
        digest.update(f"{table}:{counts[table]}:{int(stats['checksum'])};".encode())
    return SparkDatabase(connection=None, fingerprint="spark-" + digest.hexdigest()[:26],
                         name=name or f"Spark: {database}", row_counts=counts,
                         fields_present=present, notes=tuple(notes), engine="spark",
                         currency=_currency(spark, database),
                         session=spark, database=database, tables=tuple(where.items()))


def bound(params: dict[str, object]) -> dict[str, object]:
    """Query parameters as Spark's binder takes them: plain Python literals, and lists
    (which pyspark sends as array() constructors)."""
    out: dict[str, object] = {}
    for key, value in params.items():
        if isinstance(value, (list, tuple)):
            out[key] = [_plain(v) for v in value]
        else:
            out[key] = _plain(value)
    return out


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        raise ValueError("timestamps are naive in Handoff's queries")
    return value


def run(db: SparkDatabase, sql: str, params: dict[str, object]) -> pd.DataFrame:
    """One transpiled query on the Spark session; a small aggregate as pandas."""
    return _pandas(db.session.sql(sql, args=bound(params)))


def _pandas(frame: Any) -> pd.DataFrame:
    """A Spark result as pandas, without pyspark's pandas-3 deprecation notices (one per
    column; the results are checked by the parity test, not by the notices)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = frame.toPandas()
    out.attrs.clear()  # pyspark's plan metrics: not data, and Streamlit cannot serialise them
    return out
