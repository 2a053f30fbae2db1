"""SMART targets: the editable table, its CSV download, and reading an uploaded targets file
as hostile input (size, shape and every value checked against the range the page accepts,
with the row and column of each problem named)."""

from __future__ import annotations

import csv
import io
import math

import pandas as pd
import streamlit as st

from handoff import export, format, objectives, state, ui
from handoff.db import Database
from handoff.kpis import KPI_BY_KEY, KPI_BY_LABEL, KPIS, Kpi, missing, owners

MAX_TARGETS_BYTES = 200_000
MAX_TARGET_ROWS = 200
MAX_TARGET = 1e12  # a target above a trillion is a typo, and would overflow rounding
KNOWN_COLUMNS = ("KPI", "Target", "Period", "Owner", "Supporting", "Better when")


def target_range(kpi: Kpi) -> tuple[float, float]:
    """What a target may be: a share from 0 to 1, anything else from 0 to a trillion."""
    return (0.0, 1.0) if kpi.fmt == "pct" else (0.0, MAX_TARGET)


def checked_target(kpi: Kpi, value: object) -> tuple[float | None, str | None]:
    """A target value (None: no target) or what is wrong with it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, None
    text = str(value).strip().lstrip("'").replace(",", "").replace("_", "")
    if not text:
        return None, None
    percent = text.endswith("%")
    try:
        number = float(text.rstrip("%").strip())
    except ValueError:
        return None, f"'{str(value)[:30]}' is not a number"
    if percent:
        number /= 100
    if not math.isfinite(number):
        return None, "is not a finite number"
    low, high = target_range(kpi)
    if not low <= number <= high:
        unit = " (a share: 45% is 0.45)" if kpi.fmt == "pct" else ""
        return None, f"{number:g} is outside {low:g} to {high:g}{unit}"
    return number, None


def _too_big(name: str, size: int) -> str:
    return (f"{name} is {size:,} bytes; a targets file is at most "
            f"{MAX_TARGETS_BYTES:,} (one row per KPI). Nothing was changed.")


def read_targets(name: str, data: bytes) -> tuple[dict[str, float], list[str]] | str:
    """Targets from an uploaded CSV and warnings, or a message saying what is wrong (then
    nothing is applied). Messages are plain text: the page escapes them when it shows them."""
    shown = name
    if len(data) > MAX_TARGETS_BYTES:
        return _too_big(name, len(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return f"{shown} is not UTF-8 text: save it as CSV (UTF-8) and upload it again."
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as e:
        return f"{shown} could not be read as CSV ({e})."
    if len(rows) > MAX_TARGET_ROWS + 1:
        return f"{shown} has {len(rows) - 1:,} rows; a targets file has one row per KPI."
    header = [h.strip().lstrip("\ufeff") for h in rows[0]] if rows else []
    if not {"KPI", "Target"} <= set(header):
        return (f"{shown} needs the columns KPI and Target (download the table to see the "
                "form).")
    warnings = []
    extra = [h for h in header if h not in KNOWN_COLUMNS]
    if extra:
        warnings.append(f"ignored column(s): {', '.join(extra)[:80]}")
    at_kpi, at_target = header.index("KPI"), header.index("Target")
    by_label = {name: k.key for name, k in KPI_BY_LABEL.items()}
    out: dict[str, float] = {}
    seen: dict[str, int] = {}
    errors, unknown = [], []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = row + [""] * (len(header) - len(row))
        label = cells[at_kpi].strip().lstrip("'")
        if label not in by_label:
            unknown.append(label[:40])
            continue
        key = by_label[label]
        if key in seen:
            errors.append(f"row {line}: {label} is already on row {seen[key]}")
            continue
        seen[key] = line
        value, problem = checked_target(KPI_BY_KEY[key], cells[at_target])
        if problem:
            errors.append(f"row {line}, column Target ({label}): {problem}")
        elif value is not None:
            out[key] = value
    if errors:
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        return f"{shown}: " + "; ".join(errors[:5]) + more + ". Nothing was changed."
    if unknown:
        warnings.append(f"ignored unknown KPI(s): {', '.join(unknown[:5])}")
    return out, warnings


def targets(db: Database, history: pd.DataFrame, label: str, grain: str,
            shares: dict[str, float] | None) -> dict[str, float]:
    """The editable SMART targets table; returns KPI key -> target."""
    defaults = objectives.default_targets(history)
    uploaded: dict[str, float] = state.UPLOADED_TARGETS.get() or {}
    kpis = [k for k in KPIS if missing(db, k) is None]
    rows = []
    for k in kpis:
        owner, supporter = owners(k, shares)
        value = uploaded.get(k.key, defaults.get(k.key, math.nan))
        rows.append({"KPI": k.label, "Target": value, "Period": label, "Owner": owner,
                     "Supporting": supporter, "Better when": k.better})
    version = state.TARGETS_VERSION.get() or 0
    edited = st.data_editor(
        pd.DataFrame(rows), hide_index=True, width="stretch",
        key=f"obj.targets.{grain}.{label}.{version}",
        disabled=["KPI", "Period", "Owner", "Supporting", "Better when"],
        column_config={"Target": st.column_config.NumberColumn(format="localized", min_value=0.0,
                                                               max_value=MAX_TARGET)})
    st.caption("Defaults come from history: the average of up to four earlier periods, 10% "
               "better (rates: 2 points better; a rate is a share, 45% is 0.45). Every target "
               "has a number and a period. Owner and supporting team follow the "
               "accountability split on the What-if page: change who owns what there.")
    c1, c2 = st.columns(2)
    c1.download_button("Download targets (CSV)", lambda: export.safe_csv(edited),
                       file_name=f"handoff-targets-{label}.csv", mime="text/csv",
                       key="obj.targets.dl", on_click="ignore")
    upload = c2.file_uploader("Upload targets (CSV with KPI and Target columns)", type=["csv"],
                              key="obj.targets.up", max_upload_size=1)
    if upload is not None and state.LAST_TARGETS_UPLOAD.get() != upload.file_id:
        state.LAST_TARGETS_UPLOAD.set(upload.file_id)
        # the size is checked before the file's bytes are read
        loaded = read_targets(upload.name, upload.getvalue()) \
            if upload.size <= MAX_TARGETS_BYTES else _too_big(upload.name, upload.size)
        if isinstance(loaded, str):
            state.TARGETS_MESSAGE.set(("error", loaded))
        else:
            state.UPLOADED_TARGETS.set(loaded[0])
            state.TARGETS_VERSION.set(version + 1)
            state.TARGETS_MESSAGE.set(("success", f"Targets from {upload.name} applied"
                                       + (f" ({'; '.join(loaded[1])})." if loaded[1] else ".")))
        st.rerun()
    ui.message(state.TARGETS_MESSAGE.pop())
    out, problems = {}, []
    for k, r in zip(kpis, edited.itertuples(), strict=True):
        value, problem = checked_target(k, r.Target)
        if problem:
            problems.append(f"{k.label}: {problem}")
        elif value is not None:
            out[k.key] = value
    if problems:
        st.warning("Not used as targets: " + format.markdown_text("; ".join(problems)) + ".")
    return out


def revenue_target(value: float | None, fallback: float) -> float:
    """A revenue target the reverse funnel's input accepts (0 to a trillion, finite)."""
    for candidate in (value, fallback):
        if candidate is not None and math.isfinite(candidate) and 0 <= candidate <= MAX_TARGET:
            return float(round(candidate))
    return 0.0

