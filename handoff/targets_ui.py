"""SMART targets: the editable table, its CSV download, and reading an uploaded targets file
as hostile input (size, shape and every value checked against the range the page accepts,
with the row and column of each problem named)."""

from __future__ import annotations

import csv
import io
import math

import pandas as pd
import streamlit as st

from handoff import export, format, objectives, state, ui, workspace_ui
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


KEPT_NAME = "current"  # the workspace keeps one targets table, under this name


def kept_targets() -> dict[str, float]:
    """The targets saved in the workspace (KPI key -> target), each checked again: one out
    of range or of an unknown KPI is left out (its default shows)."""
    found = workspace_ui.kept_items("targets")
    saved = next((i.value for i in found if i.name == KEPT_NAME), None)
    table = saved.get("targets") if isinstance(saved, dict) else None
    out: dict[str, float] = {}
    for key, entry in (table or {}).items():
        value = entry.get("target") if isinstance(entry, dict) else None
        if key in KPI_BY_KEY:
            checked, problem = checked_target(KPI_BY_KEY[key], value)
            if checked is not None and problem is None:
                out[key] = checked
    return out


def _keep_targets(values: dict[str, float], label: str, grain: str,
                  shares: dict[str, float] | None) -> str | None:
    """Save the targets people set in the workspace, with each one's owner and the period
    they were set on; None when saved, otherwise why not."""
    table = {}
    for key, value in values.items():
        owner, supporter = owners(KPI_BY_KEY[key], shares)
        table[key] = {"target": value, "owner": owner, "supporting": supporter}
    return workspace_ui.keep("targets", KEPT_NAME,
                             {"targets": table, "period": label, "grain": grain})


def _typed(key: str, kpis: list[Kpi], kept: dict[str, float]) -> dict[str, float]:
    """The kept targets with the cells typed into the table on top: a valid number sets a
    target, an emptied cell goes back to the default; an invalid one changes nothing (the
    page says why below the table)."""
    out = dict(kept)
    edits = (st.session_state.get(key) or {}).get("edited_rows", {})
    for row, cells in edits.items():
        if "Target" not in cells or not 0 <= int(row) < len(kpis):
            continue
        kpi = kpis[int(row)]
        value, problem = checked_target(kpi, cells["Target"])
        if problem is None and value is None:
            out.pop(kpi.key, None)
        elif problem is None:
            out[kpi.key] = value
    return out


def targets(db: Database, history: pd.DataFrame, label: str, grain: str,
            shares: dict[str, float] | None) -> dict[str, float]:
    """The SMART targets table, kept in the workspace (owners and editors change it, viewers
    see it); returns KPI key -> target."""
    access = state.ACCESS.get()
    editable = access is not None and access.can_edit_targets
    defaults = objectives.default_targets(history)
    kept = kept_targets()
    kpis = [k for k in KPIS if missing(db, k) is None]
    rows = []
    for k in kpis:
        owner, supporter = owners(k, shares)
        value = kept.get(k.key, defaults.get(k.key, math.nan))
        rows.append({"KPI": k.label, "Target": value, "Period": label, "Owner": owner,
                     "Supporting": supporter, "Better when": k.better})
    version = state.TARGETS_VERSION.get() or 0
    key = f"obj.targets.{grain}.{label}.{version}"
    edited = st.data_editor(
        pd.DataFrame(rows), hide_index=True, width="stretch", key=key,
        disabled=True if not editable else ["KPI", "Period", "Owner", "Supporting",
                                            "Better when"],
        column_config={"Target": st.column_config.NumberColumn(format="localized", min_value=0.0,
                                                               max_value=MAX_TARGET)})
    st.caption("Defaults come from history: the average of up to four earlier periods, 10% "
               "better (rates: 2 points better; a rate is a share, 45% is 0.45). Every target "
               "has a number and a period. Owner and supporting team follow the "
               "accountability split on the What-if page: change who owns what there. "
               "Targets set here are kept in the workspace for every member.")
    typed = _typed(key, kpis, kept)
    if typed != kept:
        refused = _keep_targets(typed, label, grain, shares)
        if refused:
            st.error(format.markdown_text(refused))
            edited = pd.DataFrame(rows)  # what the workspace holds, not the refused edit
        else:  # the table is drawn afresh from the workspace: no stale edit is saved again
            state.TARGETS_VERSION.set(version + 1)
            state.TARGETS_MESSAGE.set(("success", "Targets saved in the workspace."))
            st.rerun()
    c1, c2 = st.columns(2)
    c1.download_button("Download targets (CSV)", lambda: export.safe_csv(edited),
                       file_name=f"handoff-targets-{label}.csv", mime="text/csv",
                       key="obj.targets.dl", on_click="ignore")
    if editable:
        _upload(c2, version, label, grain, shares)
    else:
        c2.info("Targets are set by the workspace's owners and editors; you are a viewer. "
                "Ask an owner to change your role to set them.")
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


def _upload(column, version: int, label: str, grain: str,
            shares: dict[str, float] | None) -> None:
    """An uploaded targets CSV replaces the workspace's targets (its KPIs; the rest go back
    to their defaults), once per upload."""
    upload = column.file_uploader("Upload targets (CSV with KPI and Target columns)",
                                  type=["csv"], key="obj.targets.up", max_upload_size=1)
    if upload is None or state.LAST_TARGETS_UPLOAD.get() == upload.file_id:
        return
    state.LAST_TARGETS_UPLOAD.set(upload.file_id)
    # the size is checked before the file's bytes are read
    loaded = read_targets(upload.name, upload.getvalue()) \
        if upload.size <= MAX_TARGETS_BYTES else _too_big(upload.name, upload.size)
    if isinstance(loaded, str):
        state.TARGETS_MESSAGE.set(("error", loaded))
    else:
        refused = _keep_targets(loaded[0], label, grain, shares)
        if refused:
            state.TARGETS_MESSAGE.set(("error", refused))
        else:
            state.TARGETS_VERSION.set(version + 1)
            state.TARGETS_MESSAGE.set(("success", f"Targets from {upload.name} applied and "
                                       "kept in the workspace"
                                       + (f" ({'; '.join(loaded[1])})." if loaded[1] else ".")))
    st.rerun()


def revenue_target(value: float | None, fallback: float) -> float:
    """A revenue target the reverse funnel's input accepts (0 to a trillion, finite)."""
    for candidate in (value, fallback):
        if candidate is not None and math.isfinite(candidate) and 0 <= candidate <= MAX_TARGET:
            return float(round(candidate))
    return 0.0

