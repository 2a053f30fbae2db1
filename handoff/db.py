"""The only module that talks to DuckDB: one locked-down in-memory database per session.

A `Database` is built whole from canonical tables and never changed afterwards: loading new
data builds a new one and swaps it in, so a failed load can never damage what is loaded.
Tables are loaded from Arrow (never by scanning pandas frames; DuckDB 2.0.1 fixed wrong
results of 2.0.0 when scanning Arrow data) while the same tables are hashed for the
fingerprint and, when a workspace keeps them, written as canonical Parquet (read back with
DuckDB's own reader). Only then is the connection locked: no file or network access from
query text, no extensions, no configuration changes, bounded memory.
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from handoff.fingerprint import content_fingerprint
from handoff.schema import LEAD_STAGE_RANK, SQL_TYPES, TABLES, fields

QUERIES_DIR = Path(__file__).resolve().parent.parent / "queries"
# What one session's database may hold in memory: a 10M-lead export with its deals and
# stage history takes 2.3 GB, and queries need room beside it. Nothing spills to disk.
MEMORY_LIMIT = os.environ.get("HANDOFF_SESSION_MEMORY", "4GB")
T = TypeVar("T")
_QUERY_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Source:
    """One file behind the loaded data, as shown on the Home and Data pages."""

    file_name: str
    table: str
    rows: int
    preset: str | None = None
    # the mapping the file was loaded with (Mapping JSON), kept with a workspace's version so
    # the next export of the same shape can start from it
    mapping: str | None = field(default=None, compare=False, repr=False)


@dataclass
class _Life:
    closed: bool = False
    # threads querying the database on their own (`Database.beside`), waited for on closing
    helpers: list[threading.Thread] = field(default_factory=list)


@dataclass(frozen=True)
class Database:
    """Loaded data: a locked DuckDB connection plus what it holds. Nothing in it changes
    after it is built; only its connection is closed, once, when no session needs it."""

    connection: duckdb.DuckDBPyConnection
    fingerprint: str
    name: str
    row_counts: dict[str, int]
    fields_present: dict[str, frozenset[str]]
    sources: tuple[Source, ...] = ()
    notes: tuple[str, ...] = ()
    currency: str | None = None  # ISO code inferred from the amounts' symbols; None: unknown
    shared: bool = False  # the demo: one database for every session, never closed by one
    # fields a column was mapped to (fields_present holds those that have values)
    fields_mapped: dict[str, frozenset[str]] = field(default_factory=dict)
    engine: str = "duckdb"  # or "spark": a spark_db.SparkDatabase, queried over Spark Connect
    _life: _Life = field(default_factory=_Life, repr=False, compare=False)

    @property
    def closed(self) -> bool:
        return self._life.closed

    def fact(self, name: str, compute: Callable[[], T]) -> T:
        """A fact about the whole loaded data (no filters in it), computed once per content:
        the data never changes, and some facts cost a join over every row."""
        return _FACTS.get(self.fingerprint, name, compute)

    def has(self, table: str, *names: str) -> bool:
        """True when the table has rows and every named field was supplied."""
        return self.row_counts.get(table, 0) > 0 and set(names) <= self.fields_present[table]

    def beside(self, work: Callable[[], None], name: str) -> threading.Thread:
        """Run `work` (queries on this database) on a thread that closing the database
        waits for: DuckDB refuses to close a connection while a cursor of it runs a query.
        `work` should stop once `closed` is True. Not a daemon thread: the process waits
        for it on exit, since one killed inside DuckDB aborts the process."""
        thread = threading.Thread(target=work, name=name)
        self._life.helpers.append(thread)
        thread.start()
        return thread

    def close(self, shared_too: bool = False) -> None:
        """Free the database's memory. A shared database stays open for the others; only
        whoever shares it out closes it (`shared_too`)."""
        if (shared_too or not self.shared) and not self._life.closed:
            self._life.closed = True  # a helper stops before its next query
            for helper in self._life.helpers:
                helper.join()
            self.connection.close()


class _Facts:
    """Facts about loaded data by content fingerprint, a bounded number kept; thread-safe.
    A fact asked for while another thread computes it is waited for, not computed twice:
    the facts are computed on a thread right after a load (`facts.warm`) while the first
    page may already ask for them."""

    def __init__(self, size: int = 512) -> None:
        self._values: OrderedDict[tuple[str, str], object] = OrderedDict()
        self._computing: dict[tuple[str, str], threading.Lock] = {}
        self._size, self._lock = size, threading.Lock()

    def get(self, fingerprint: str, name: str, compute: Callable[[], T]) -> T:
        key = (fingerprint, name)
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]  # type: ignore[return-value]
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:  # one thread computes (outside the shared lock: a query can take
            with self._lock:  # a while); the others wait here, then take its value
                if key in self._values:
                    return self._values[key]  # type: ignore[return-value]
            value = compute()
            with self._lock:
                self._values[key] = value
                self._computing.pop(key, None)
                while len(self._values) > self._size:
                    self._values.popitem(last=False)
        return value


_FACTS = _Facts()


def build_database(tables: dict[str, pd.DataFrame], name: str,
                   sources: tuple[Source, ...] = (),
                   fields_present: dict[str, frozenset[str]] | None = None,
                   memory_limit: str = MEMORY_LIMIT, *, notes: tuple[str, ...] = (),
                   fields_mapped: dict[str, frozenset[str]] | None = None,
                   currency: str | None = None, shared: bool = False) -> Database:
    """A new locked database holding every canonical table (empty where none was given).
    Nothing is written to disk: a session's upload lives in its memory only."""
    database, _, _ = written_database(
        tables, None, name, sources, fields_present, memory_limit, notes=notes,
        fields_mapped=fields_mapped, currency=currency, shared=shared)
    return database


def written_database(tables: dict[str, pd.DataFrame], folder: Path | None, name: str,
                     sources: tuple[Source, ...] = (),
                     fields_present: dict[str, frozenset[str]] | None = None,
                     memory_limit: str = MEMORY_LIMIT, *, notes: tuple[str, ...] = (),
                     fields_mapped: dict[str, frozenset[str]] | None = None,
                     currency: str | None = None, shared: bool = False
                     ) -> tuple[Database, dict[str, Path], dict[str, frozenset[str]]]:
    """A new locked database holding the tables, with the canonical Parquet files that hold
    it (one per table with rows, in `folder`, when one is given: `database_from_parquet`
    makes the same database of them) and the fields each table has values for (as given,
    else those with a value in some row). The fingerprint is hashed, and the files written,
    on a thread while DuckDB loads the same Arrow tables: both let go of the GIL, and at ten
    million deals writing and then reading took 2.2 s one after the other."""
    arrow = _arrow_tables(tables)
    files = {t: folder / f"{t}.parquet" for t in arrow} if folder is not None else {}
    present = {t: (fields_present or {}).get(t) or frozenset(
        c for c in arrow[t].column_names if arrow[t][c].null_count < len(arrow[t]))
        for t in arrow}

    def write() -> str:
        for table, path in files.items():
            # No min/max statistics: a file is only ever read whole into a table, and at
            # ten million rows they cost a third of the write (1.8 s -> 1.2 s).
            pq.write_table(arrow[table], path, write_statistics=False)
        return content_fingerprint(arrow)

    def insert(con: duckdb.DuckDBPyConnection, table: str) -> None:
        con.register("incoming", arrow[table])
        try:
            con.execute(_insert_sql(table, "incoming"))
        finally:
            con.unregister("incoming")

    # Leaving the pool waits for the writer, also when loading fails.
    with ThreadPoolExecutor(1, thread_name_prefix="handoff-parquet") as pool:
        written = pool.submit(write)
        con, counts = _loaded(insert, {t: len(a) for t, a in arrow.items()}, memory_limit)
    try:
        fingerprint = written.result()
    except BaseException:
        con.close()
        raise
    database = Database(con, fingerprint, name, counts,
                        {t: present.get(t, frozenset()) for t in TABLES}, sources,
                        notes=notes, currency=currency, shared=shared,
                        fields_mapped=fields_mapped or {})
    return database, files, present


def _arrow_tables(tables: dict[str, pd.DataFrame]) -> dict[str, pa.Table]:
    """Each canonical table with rows as Arrow, in the columns `canonical_columns` keeps."""
    unknown = set(tables) - set(TABLES)
    if unknown:
        raise ValueError(f"not canonical tables: {sorted(unknown)}")
    return {t: pa.Table.from_pandas(canonical_columns(t, tables[t]), preserve_index=False)
            for t in TABLES if tables.get(t) is not None and len(tables[t]) > 0}


def database_from_parquet(files: dict[str, Path], name: str, fingerprint: str,
                          sources: tuple[Source, ...] = (),
                          fields_present: dict[str, frozenset[str]] | None = None,
                          memory_limit: str = MEMORY_LIMIT, *, notes: tuple[str, ...] = (),
                          fields_mapped: dict[str, frozenset[str]] | None = None,
                          currency: str | None = None, shared: bool = False) -> Database:
    """A new locked database from canonical Parquet files (as `written_database` writes them),
    read by DuckDB's own reader, under the fingerprint the tables had when the files were
    written: the caller has checked that the files are the ones written (a workspace keeps
    each file's hash), so the same tables keep the same fingerprint however they load."""
    unknown = set(files) - set(TABLES)
    if unknown:
        raise ValueError(f"not canonical tables: {sorted(unknown)}")

    def insert(con: duckdb.DuckDBPyConnection, table: str) -> None:
        con.execute(_insert_sql(table, "read_parquet($path)"), {"path": str(files[table])})

    con, counts = _loaded(insert, {t: _parquet_rows(p) for t, p in files.items()},
                          memory_limit)
    present = {t: (fields_present or {}).get(t, frozenset()) if t in files else frozenset()
               for t in TABLES}
    return Database(con, fingerprint, name, counts, present, sources,
                    notes=notes, currency=currency, shared=shared,
                    fields_mapped=fields_mapped or {})


def _loaded(insert: Callable[[duckdb.DuckDBPyConnection, str], None], rows: dict[str, int],
            memory_limit: str) -> tuple[duckdb.DuckDBPyConnection, dict[str, int]]:
    """A locked connection with every canonical table created and `insert` run for each
    table in `rows` (its row count, for the message when memory runs out)."""
    # The limit holds while loading too, and nothing is spilled to a temporary folder.
    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False,
                                             "autoload_known_extensions": False,
                                             "memory_limit": memory_limit,
                                             "max_temp_directory_size": "0B"})
    counts: dict[str, int] = {}
    try:
        for table in TABLES:
            con.execute(_create_table_sql(table))
            counts[table] = 0
            if table in rows:
                insert(con, table)
                with con.cursor() as cur:
                    counts[table] = cur.execute(f'select count(*) from "{table}"').fetchone()[0]
        lock_down(con, memory_limit)
    except duckdb.OutOfMemoryException:
        con.close()
        held = ", ".join(f"{n:,} {t.replace('_', ' ')}" for t, n in rows.items())
        raise ValueError(
            f"the data ({held} rows) needs more memory than one session may use "
            f"({memory_limit}). Load fewer rows (a shorter date range, or fewer files), or "
            "ask whoever runs Handoff to raise HANDOFF_SESSION_MEMORY") from None
    except BaseException:
        con.close()
        raise
    return con, counts


def table_frame(db: Database, table: str) -> pd.DataFrame:
    """Every row of one canonical table (to carry it into the next database)."""
    if table not in TABLES:  # identifiers come from the schema's allow-list
        raise ValueError(f"not a canonical table: {table!r}")
    with db.connection.cursor() as cur:
        return cur.execute(f'select * from "{table}"').df()


def _parquet_rows(path: Path) -> int:
    return pq.ParquetFile(path).metadata.num_rows


def canonical_frame(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with exactly the table's columns, in order, in Parquet-friendly types (a
    field no file gave as typed nulls)."""
    out = canonical_columns(table, frame)
    for position, f in enumerate(fields(table)):
        if f.name not in out:
            out.insert(position, f.name, typed_nulls(f.kind, out.index))
    return out


def canonical_columns(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The table's columns the frame has, in order, in Parquet-friendly types. Fields no
    file gave are left out, not filled: DuckDB makes them null when the file is read (at
    ten million deals, nine such columns cost 0.9 s and 700 MB to build in pandas)."""
    out = pd.DataFrame(index=frame.index)
    if table == "leads":  # derived once here so every query can compare positions
        rank = LEAD_STAGE_RANK
        frame = frame.assign(stage_rank=frame["stage"].map(rank).fillna(1).astype("int64")
                             if "stage" in frame else 1)
    for f in fields(table):
        if f.name not in frame:
            continue
        column = frame[f.name]
        if column.dtype == _PARQUET_DTYPES[f.kind]:
            out[f.name] = column  # typed already (as validation leaves most): no copy
        elif f.kind == "text":
            out[f.name] = column.astype("string")
        elif f.kind == "timestamp":
            out[f.name] = pd.to_datetime(column, errors="coerce").astype("datetime64[us]")
        elif f.kind == "number":
            out[f.name] = pd.to_numeric(column, errors="coerce").astype("float64")
        elif f.kind == "integer":
            out[f.name] = pd.to_numeric(column, errors="coerce").astype("Int64")
        else:
            out[f.name] = column.astype("boolean")
    return out.reset_index(drop=True)


_PARQUET_DTYPES = {"text": pd.StringDtype(), "timestamp": np.dtype("datetime64[us]"),
                   "number": np.dtype("float64"), "integer": pd.Int64Dtype(),
                   "boolean": pd.BooleanDtype()}


def typed_nulls(kind: str, index: pd.Index) -> pd.Series:
    """A column of nulls in the canonical type of a field `kind`, for a field no file gave.
    Built from buffers, not by repeating a scalar: at ten million rows that took 0.1 s a
    column, and a deals table has nine such fields when only Maven's columns are mapped."""
    n = len(index)
    if kind == "text":
        values = pd.array(pa.nulls(n, pa.large_string()), dtype=_PARQUET_DTYPES["text"])
    elif kind == "integer":
        values = pd.arrays.IntegerArray(np.zeros(n, dtype="int64"), np.ones(n, dtype=bool))
    elif kind == "boolean":
        values = pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))
    else:  # timestamp, number: NaT and NaN are values of the numpy type
        values = np.full(n, np.datetime64("NaT", "us") if kind == "timestamp" else np.nan,
                         dtype=_PARQUET_DTYPES[kind])
    return pd.Series(values, index=index, copy=False)


def _create_table_sql(table: str) -> str:
    # Identifiers come from the schema module (an allow-list), never from user input.
    columns = ", ".join(f'"{f.name}" {SQL_TYPES[f.kind]}' for f in fields(table))
    return f'create table "{table}" ({columns})'


def _insert_sql(table: str, source: str) -> str:
    # By name: a file holds the fields some file gave (older versions hold all of them);
    # the others are null. A column that is not a field of the table is an error. `source`
    # is one of this module's two constants, never user text.
    return f'insert into "{table}" by name select * from {source}'


def lock_down(con: duckdb.DuckDBPyConnection, memory_limit: str = MEMORY_LIMIT) -> None:
    """After loading: no file or network access, no extensions, no further settings."""
    con.execute("set enable_external_access = false")
    con.execute("set autoinstall_known_extensions = false")
    con.execute("set autoload_known_extensions = false")
    con.execute("set memory_limit = $limit", {"limit": memory_limit})
    con.execute("set max_temp_directory_size = '0B'")
    con.execute("set lock_configuration = true")


@dataclass(frozen=True)
class CsvCells:
    """A delimited file as DuckDB read it: every record's cells as text (header included,
    positional columns c0…, a missing cell as ''), and the records it could not read."""

    cells: pa.Table
    rejects: list[tuple[int, str, str]]  # (record line, error type, raw text)


def read_csv_cells(path: str, width: int, delimiter: str, quote: str,
                   memory_limit: str = MEMORY_LIMIT) -> CsvCells:
    """Read a file with DuckDB's CSV reader on an unlocked connection used only for this and
    closed after it (the file's path is ours, never user text). The cells go straight to
    Arrow: stored in a table first and read out again, a million rows took 0.36 s, not
    0.21 s. Raises duckdb.Error when DuckDB cannot read it at all."""
    columns = {f"c{i}": "VARCHAR" for i in range(width)}  # positional: user text stays out
    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False,
                                             "autoload_known_extensions": False,
                                             "memory_limit": memory_limit,
                                             "max_temp_directory_size": "0B"})
    try:
        cells = con.sql(loading_text("csv_cells"), params={
            "path": path, "columns": columns, "delimiter": delimiter,
            "quote": quote}).to_arrow_table()
        rejects = con.execute(loading_text("csv_rejects")).fetchall()
    finally:
        con.close()
    return CsvCells(cells, [(int(a), str(b), str(c)) for a, b, c in rejects])


LOADING_DIR = QUERIES_DIR / "loading"


def loading_text(name: str) -> str:
    """The SQL of queries/loading/<name>.sql (run on a connection of its own while loading)."""
    return _file_text(LOADING_DIR, name, "loading")
STAGING_DIR = QUERIES_DIR / "staging"
_USES = re.compile(r"^-- uses: (.+)$", re.MULTILINE)


@lru_cache(maxsize=128)
def sql_text(name: str) -> str:
    """The SQL run for queries/<name>.sql: the file, with the shared staging pieces it names in
    its `-- uses:` header put in front of its own CTEs. Plain SQL text, so the one source can
    also be transpiled for another engine; the name must be a plain identifier."""
    own = _file_text(QUERIES_DIR, name, "query")
    pieces = staging_pieces(own)
    if not pieces:
        return own
    header, body = _split_header(own)
    shared = ",\n\n".join(f"-- staging/{piece}.sql\n"
                           + _split_header(_file_text(STAGING_DIR, piece, "staging piece"))[1]
                           for piece in pieces)
    if re.match(r"with\s", body, re.IGNORECASE):
        return f"{header}with {shared},\n\n{body[4:].lstrip()}"
    return f"{header}with {shared}\n\n{body}"


def staging_pieces(text: str) -> list[str]:
    """The staging pieces a query uses, each after the pieces it uses itself."""
    order: list[str] = []

    def visit(piece: str, seen: tuple[str, ...]) -> None:
        if piece in seen:
            raise ValueError(f"staging pieces use each other in a circle: {seen + (piece,)}")
        if piece not in order:
            for inner in _uses(_file_text(STAGING_DIR, piece, "staging piece")):
                visit(inner, seen + (piece,))
            order.append(piece)

    for piece in _uses(text):
        visit(piece, ())
    return order


def _uses(text: str) -> list[str]:
    return [n.strip() for line in _USES.findall(text) for n in line.split(",") if n.strip()]


def _file_text(folder: Path, name: str, what: str) -> str:
    if not _QUERY_NAME.match(name):
        raise ValueError(f"not a {what} name: {name!r}")
    path = folder / f"{name}.sql"
    if not path.is_file():
        raise ValueError(f"no such {what}: {name!r}")
    return path.read_text(encoding="utf-8")


def _split_header(text: str) -> tuple[str, str]:
    """The leading comment lines (the header) and the SQL after them."""
    lines = text.splitlines(keepends=True)
    n = 0
    while n < len(lines) and (lines[n].startswith("--") or not lines[n].strip()):
        n += 1
    return "".join(lines[:n]), "".join(lines[n:])


def table_frames(db: Database) -> dict[str, pd.DataFrame]:
    """Every canonical table of a DuckDB database with rows, whole (to copy it elsewhere,
    as `spark_load` does; never for a page: pages get aggregates)."""
    out = {}
    for table in TABLES:  # identifiers from the schema's allow-list
        if db.row_counts.get(table):
            with db.connection.cursor() as cur:
                out[table] = cur.execute(f'select * from "{table}"').df()
    return out


def query_names() -> list[str]:
    return sorted(p.stem for p in QUERIES_DIR.glob("*.sql"))


def staging_names() -> list[str]:
    return sorted(p.stem for p in STAGING_DIR.glob("*.sql"))


def declared_params(name: str) -> set[str]:
    """Parameters listed in the query's `-- params:` header comment."""
    text = " ".join(_split_header(_file_text(QUERIES_DIR, name, "query"))[0].splitlines())
    if "-- params:" not in text:
        return set()
    return set(re.findall(r"\$([a-z_][a-z0-9_]*)", text.split("-- params:", 1)[1]))


def query(db: Database, name: str, **params: object) -> pd.DataFrame:
    """Run queries/<name>.sql on this session's database; results are small aggregates.
    The one path every query takes, on either engine: DuckDB runs the file's SQL, Spark the
    same SQL transpiled (handoff/spark_sql.py)."""
    if db.engine == "spark":
        from handoff import spark_db, spark_sql  # only Spark mode needs pyspark and sqlglot

        tables = db.tables  # type: ignore[attr-defined] - a SparkDatabase
        return spark_db.run(db, spark_sql.spark_text(name, tables), params)  # type: ignore[arg-type]
    with db.connection.cursor() as cur:  # a cursor per query: safe across threads
        return cur.execute(sql_text(name), params).df()
