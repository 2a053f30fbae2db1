"""Reading a Parquet file into a raw table (its columns keep their types)."""

from __future__ import annotations

import io

import pandas as pd

from handoff.raw import RawTable, UploadError, named_frame


def read_parquet(name: str, data: bytes) -> RawTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if data[:4] != b"PAR1":
        raise UploadError(f"{name} is named .parquet but is not a Parquet file. Export it "
                          "again as Parquet, or upload a CSV.")
    if data[-4:] != b"PAR1":
        raise UploadError(f"{name} is cut short: a Parquet file ends with its table of "
                          "contents, and this one's end is missing (an interrupted download "
                          "or copy?). Export or download it again.")
    try:
        table = pq.read_table(io.BytesIO(data))
    except (pa.ArrowException, OSError, ValueError) as e:
        raise UploadError(f"{name} could not be read as Parquet ({str(e)[:120]}). Export it "
                          "again or upload a CSV.") from None
    frame = table.to_pandas()
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].map(lambda v: v if v is None or isinstance(
                v, (str, int, float, bool, pd.Timestamp)) else str(v))
    frame.columns = [str(c) for c in frame.columns]
    warnings: list[str] = []
    _, frame = named_frame(name, list(frame.columns), frame.values.tolist(), warnings) \
        if frame.columns.duplicated().any() else (None, frame)
    return RawTable(name, frame, "parquet", "", notes=["Read as Parquet."], warnings=warnings)
