"""Load a dataset into a Spark catalog as Handoff's canonical tables, for Spark mode.

    python -m handoff.spark_load --demo
    python -m handoff.spark_load --database acme leads.csv deals.xlsx

Files go through the same reading, mapping (the proposed one, as the Data page proposes it),
validation and combining as an upload, then every canonical table is written to the
database (replacing what was there). Point the app at it with HANDOFF_ENGINE=spark.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from handoff import dataset, demo, ingest, mapping, proposal, spark_db
from handoff.db import table_frames


def file_tables(paths: list[Path]) -> tuple[dict[str, pd.DataFrame], str | None]:
    """The canonical tables from export files, mapped as the Data page proposes, and the
    amounts' currency; a file that does not validate stops the load, with its problems
    named."""
    raws = [ingest.read_upload(p.name, p.read_bytes()) for p in paths]
    pending = []
    for raw, m in zip(raws, proposal.propose_all(raws), strict=True):
        frame, validation = mapping.apply(raw, m)
        if not validation.ok:
            raise ValueError(f"{raw.file_name}: " + "; ".join(validation.problems))
        pending.append(dataset.Pending(raw.file_name, m, frame, validation))
    loaded = dataset.load(pending)
    try:
        return table_frames(loaded), loaded.currency
    finally:
        loaded.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="export files (CSV, XLSX, Parquet)")
    parser.add_argument("--demo", action="store_true", help="load the demo company")
    parser.add_argument("--remote", default="sc://127.0.0.1:15002",
                        help="Spark Connect address (default: %(default)s)")
    parser.add_argument("--database", default="handoff", help="default: %(default)s")
    args = parser.parse_args(argv)
    if args.demo == bool(args.files):
        parser.error("give either --demo or the files to load")
    started = time.perf_counter()
    try:
        tables, currency = (demo.demo_tables(), demo.DEMO_CURRENCY) if args.demo \
            else file_tables(args.files)
        spark = spark_db.session(args.remote)
        written = spark_db.write_tables(spark, args.database, tables, currency=currency)
        loaded = spark_db.spark_database(spark, args.database)
    except (OSError, ValueError) as e:
        print(f"not loaded: {e}", file=sys.stderr)
        return 1
    rows = ", ".join(f"{n:,} {t}" for t, n in written.items() if n)
    print(f"loaded into {args.database} at {args.remote} in "
          f"{time.perf_counter() - started:.1f} s: {rows}")
    print(f"run the app on it: HANDOFF_ENGINE=spark HANDOFF_SPARK_REMOTE={args.remote} "
          f"HANDOFF_SPARK_DATABASE={args.database} make run   (fingerprint "
          f"{loaded.fingerprint})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
