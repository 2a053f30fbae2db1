"""The Data page's widgets: one card per uploaded file to map, check and confirm it.

Each card reads the file (once per upload), proposes a mapping, lets the user edit columns,
stage meanings and ambiguous date readings, and shows the validation report. Nothing replaces
the loaded data until an editor presses the load button (`handoff.versions_ui`), and a
failure leaves it in place.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from handoff import dataset, format, ingest, mapping, parsing, pipeline, state, ui, workspace_ui
from handoff.ingest import RawTable, UploadError
from handoff.mapping import NOT_A_STAGE, Mapping, Validation
from handoff.pipeline import Unloadable
from handoff.schema import LEAD_STAGE_LABELS, LEAD_STAGES, TABLE_LABELS, TABLES, mappable_fields

SKIP = "(skip this file)"
NONE = ""


def read_file(upload) -> RawTable | UploadError:
    """The upload's raw table, read once per upload and sheet (kept in this session only)."""
    data = upload.getvalue()
    try:
        sheets = ingest.sheet_names(upload.name, data)
    except UploadError as e:
        return e
    sheet = None
    if len(sheets) > 1:
        sheet = st.selectbox(f"Sheet of {format.markdown_text(upload.name)}", sheets,
                             key=f"sheet.{upload.file_id}",
                             help="This workbook has several sheets; choose the one to load.")
    def read() -> RawTable | UploadError:
        bar = st.progress(0.0, text=f"Reading {format.markdown_text(upload.name)}…")
        raw = pipeline.read(upload.name, data, sheet, progress=bar.progress)
        bar.empty()
        return raw

    return state.file_work(f"{upload.file_id}.{sheet or ''}", "read", compute=read)


def forget_removed_files(uploads: list) -> None:
    """Drop the work on files the user removed from the uploader."""
    state.forget_files({u.file_id for u in uploads})


def file_cards(uploads: list) -> tuple[list[dataset.Pending], list[Unloadable]]:
    """One card per upload: all files are read first, so that each mapping is proposed
    with the others in view (a deals file is recognised by the lead ids it shares)."""
    cards = [st.container(border=True) for _ in uploads]
    raws: list[RawTable | UploadError] = []
    for card, upload in zip(cards, uploads, strict=True):
        with card:
            st.subheader(format.markdown_text(upload.name))
            raws.append(read_file(upload))
    readable = [(u, r) for u, r in zip(uploads, raws, strict=True) if isinstance(r, RawTable)]
    group = Together(tuple(_fid(u, r) for u, r in readable), [r for _, r in readable])
    pending: list[dataset.Pending] = []
    left_out: list[Unloadable] = []
    for card, upload, raw in zip(cards, uploads, raws, strict=True):
        with card:
            if isinstance(raw, UploadError):
                st.error(format.markdown_text(str(raw)))
                left_out.append(pipeline.unreadable(upload.name, raw))
                continue
            result = file_card(upload, raw, group)
        if isinstance(result, dataset.Pending):
            pending.append(result)
        elif isinstance(result, Unloadable):
            left_out.append(result)
    return pending, left_out


def _fid(upload, raw: RawTable) -> str:
    return f"{upload.file_id}.{raw.sheet or ''}"


@dataclass
class Together:
    """The readable files of this upload, whose mappings are proposed together."""

    fids: tuple[str, ...]
    raws: list[RawTable]

    def proposed(self, fid: str, table: str | None = None) -> Mapping:
        """The file's proposal (for `table` when the user chose one), kept in the session."""
        k = self.fids.index(fid)
        forced = {} if table is None else {k: table}
        return state.file_work(fid, "proposal", self.fids, table, compute=lambda: (
            pipeline.proposed(self.raws, forced)[k]))


def file_card(upload, raw: RawTable, group: Together) -> dataset.Pending | Unloadable | None:
    """Map and validate one readable upload: the pending load, a reason it cannot load, or
    None when the user skips it."""
    for warning in raw.warnings:
        st.warning(format.markdown_text(f"{upload.name}: {warning}"))
    fid = _fid(upload, raw)
    proposed = group.proposed(fid)
    choices = [SKIP, *TABLES]
    table = st.selectbox(
        "This file holds", choices, index=choices.index(proposed.table),
        format_func=lambda t: TABLE_LABELS.get(t, t), key=f"table.{fid}",
        help="Which part of the canonical model the rows are. Skip files you do not need.")
    if table == SKIP:
        st.caption("Skipped: this file will not be loaded.")
        return None
    current = _mapping_for(raw, fid, table, group)
    if current.preset:
        st.success(f"Recognised: **{format.markdown_text(current.preset)}**. Check the "
                   "proposed mapping below.")
    else:
        st.info("Not a known export: columns were matched by their names. Check each "
                "field below and change what is wrong.")
    current = _column_editor(raw, current, fid)
    current = _lead_meaning_editor(current, fid)
    current = _stage_editor(raw, current, fid)
    current.date_order = {c: st.session_state[f"dateorder.{fid}.{c}"]
                          for c in current.columns.values()
                          if f"dateorder.{fid}.{c}" in st.session_state}
    prepared = state.file_work(fid, "applied", current.to_json(), compute=lambda: ui.guarded(
        lambda: pipeline.pending(raw, current), f"Mapping {upload.name}"))
    if prepared is None:
        return Unloadable(upload.name, "the mapping could not be applied (see above)")
    _date_order_choices(prepared.validation, fid)
    validation_report(prepared.validation)
    _preset_controls(current, fid)
    return prepared


def _mapping_for(raw: RawTable, fid: str, table: str, group: Together) -> Mapping:
    """The starting mapping for this file and table: a chosen saved preset or the proposal."""
    presets = kept_presets()
    usable = [n for n, m in presets.items() if m.table == table]
    proposed = group.proposed(fid)
    start = copy.deepcopy(proposed if proposed.table == table else group.proposed(fid, table))
    if usable:
        choice = st.selectbox("Start from", ["Proposed mapping", *usable], key=f"preset.{fid}",
                              help="Mappings saved in this workspace.")
        if choice in presets:
            saved = presets[choice]
            headers = set(raw.frame.columns)
            start = Mapping(table, {k: v for k, v in saved.columns.items() if v in headers},
                            dict(saved.stages), list(saved.stage_order), dict(saved.date_order),
                            preset=f"your preset '{choice}'", note=saved.note,
                            converted_means=saved.converted_means, row_stage=saved.row_stage)
            start.stages = {**state.file_work(fid, "stages", table, compute=lambda: (
                mapping.propose_stages(raw, start)[0])), **start.stages}
    return start


def _column_editor(raw: RawTable, current: Mapping, fid: str) -> Mapping:
    headers = list(raw.frame.columns)
    rows = []
    for f in mappable_fields(current.table):
        column = current.columns.get(f.name, NONE)
        rows.append({"Field": f.label + (" *" if f.required else ""), "Column": column,
                     "Examples": _examples(raw.frame, column)})
    st.markdown("**Columns** — which column of the file is which field (* = required)")
    edited = st.data_editor(
        pd.DataFrame(rows), key=f"columns.{fid}.{current.table}.{current.preset}",
        hide_index=True, width="stretch", disabled=["Field", "Examples"],
        height=_rows_height(len(rows)),
        column_config={"Column": st.column_config.SelectboxColumn(
            "Column", options=[NONE, *headers], help="Leave empty when the file lacks it.")})
    columns = {}
    for f, value in zip(mappable_fields(current.table), edited["Column"], strict=True):
        if isinstance(value, str) and value in headers:
            columns[f.name] = value
    current.columns = columns
    return current


def _lead_meaning_editor(current: Mapping, fid: str) -> Mapping:
    """Leads: what a yes in the converted column means, and the stage every row has."""
    if current.table != "leads":
        return current
    c1, c2 = st.columns(2)
    if "converted" in current.columns:
        options = list(LEAD_STAGES[1:])
        current.converted_means = c1.selectbox(
            f"A yes in '{format.markdown_text(current.columns['converted'])}' means the lead "
            "became", options,
            index=options.index(current.converted_means), format_func=LEAD_STAGE_LABELS.get,
            key=f"convmeans.{fid}",
            help="A CRM's 'converted' flag (Zoho, Salesforce) means sales accepted the lead "
                 "(SQL); customers then come from won deals. A campaign's yes/no outcome "
                 "means it bought (Customer).")
    options = list(LEAD_STAGES[:5])
    current.row_stage = c2.selectbox(
        "Every row of this file is at least", options, index=options.index(current.row_stage),
        format_func=LEAD_STAGE_LABELS.get, key=f"rowstage.{fid}",
        help="A file of marketing-qualified leads holds MQLs only: each row is counted as an "
             "MQL from its created date.")
    return current


def _rows_height(n: int) -> int:
    """Tall enough to show every row of a small editor without an inner scrollbar."""
    return 35 * (min(n, 40) + 1) + 3


def _examples(frame: pd.DataFrame, column: str) -> str:
    if not column or column not in frame:
        return ""
    values = frame[column].dropna().astype(str).str.strip()
    return ", ".join(values[values != ""].unique()[:3].tolist())[:80]


def _stage_editor(raw: RawTable, current: Mapping, fid: str) -> Mapping:
    if current.table not in ("leads", "deals") or "stage" not in current.columns:
        return current
    column = current.columns["stage"]
    values = state.file_work(fid, "stage values", column,
                             compute=lambda: mapping.stage_values(raw, current))
    if not values:
        return current
    counts = state.file_work(fid, "stage counts", column, compute=lambda: (
        raw.frame[column].astype(str).str.strip().value_counts()))
    proposed, order = state.file_work(fid, "stage proposal", current.table, column,
                                      compute=lambda: mapping.propose_stages(raw, current))
    options = ([*LEAD_STAGES, NOT_A_STAGE] if current.table == "leads"
               else ["open", "won", "lost", NOT_A_STAGE])
    # Meanings chosen for another table (a deals file switched to leads keeps 'open') are
    # not this table's: only the ones this table offers are kept.
    stages = {**proposed, **{k: v for k, v in current.stages.items()
                             if k in proposed and v in options}}
    if current.table == "leads":
        help_text = "The lifecycle stage each value means: " + ", ".join(
            f"{s} = {LEAD_STAGE_LABELS[s]}" for s in LEAD_STAGES)
        ordered = sorted(values, key=lambda v: options.index(stages.get(v, "lead")))
    else:
        help_text = ("Whether a deal at this stage is still open, won or lost; "
                     "'(not a stage)' leaves those deals out.")
        ordered = current.stage_order or order or values
        ordered = [v for v in ordered if v in values] + [v for v in values if v not in ordered]
    rows = [{"Stage value": v, "Rows": int(counts.get(v, 0)), "Means": stages.get(v, options[0]),
             "Order": i} for i, v in enumerate(ordered, start=1)]
    st.markdown("**Stages** — what each stage value of the file means"
                + (" and its position in the pipeline" if current.table == "deals" else ""))
    edited = st.data_editor(
        pd.DataFrame(rows), key=f"stages.{fid}.{current.table}", hide_index=True,
        width="stretch", disabled=["Stage value", "Rows"], height=_rows_height(len(rows)),
        column_order=None if current.table == "deals" else ["Stage value", "Rows", "Means"],
        column_config={"Rows": st.column_config.NumberColumn("Rows", format=format.COUNT_FORMAT),
                       "Means": st.column_config.SelectboxColumn("Means", options=options,
                                                                 help=help_text, required=True),
                       "Order": st.column_config.NumberColumn("Order", min_value=1, step=1)})
    current.stages = {str(r["Stage value"]): str(r["Means"]) for _, r in edited.iterrows()}
    if current.table == "deals":
        edited = edited.assign(Order=pd.to_numeric(edited["Order"], errors="coerce"))
        current.stage_order = edited.sort_values("Order", kind="stable")["Stage value"].tolist()
    return current


def _date_order_choices(validation: Validation, fid: str) -> None:
    for report in validation.columns:
        if report.kind != "timestamp" or not report.ambiguous_dates:
            continue
        examples = ", ".join(report.ambiguous_examples)
        st.radio(f"Column '{format.markdown_text(report.column)}': {report.ambiguous_dates:,} "
                 f"dates such as {format.markdown_text(examples)} "
                 "can be read two ways. Read them…", parsing.DATE_ORDERS,
                 index=parsing.DATE_ORDERS.index(report.date_order or "mdy"),
                 format_func=parsing.DATE_ORDER_LABELS.get, key=f"dateorder.{fid}.{report.column}",
                 horizontal=True)


def validation_report(v: Validation) -> None:
    """Rows read, loaded and rejected (with reasons), and what happened to each column."""
    st.markdown("**Validation**")
    c1, c2, c3 = st.columns(3)
    c1.metric("Rows read", f"{v.rows_read:,}")
    c2.metric("Rows to load", f"{v.rows_loaded:,}")
    c3.metric("Rows rejected", f"{len(v.rejected):,}")
    for problem in v.problems:
        st.error(format.markdown_text(f"{v.file_name}: {problem}"))
    for note in v.notes:
        st.caption(format.markdown_text(note))
    if v.rejected:
        st.warning(f"{len(v.rejected):,} row(s) of {format.markdown_text(v.file_name)} will "
                   "not be loaded:")
        st.dataframe(pd.DataFrame([{"Line": r.line, "Reason": r.reason, "Row": r.text}
                                   for r in v.rejected[:200]]), hide_index=True, width="stretch")
    rows = []
    for r in v.columns:
        detail = []
        if r.date_formats:
            detail.append("formats: " + "; ".join(r.date_formats))
        if r.ambiguous_dates:
            detail.append(f"{r.ambiguous_dates:,} ambiguous, read "
                          f"{parsing.DATE_ORDER_LABELS[r.date_order or 'mdy'].split(' (')[0]}")
        if r.placeholder_dates:
            detail.append(f"{r.placeholder_dates:,} placeholder dates (before 1900 or after "
                          "2099, such as 9999-12-31) treated as missing")
        if r.future_dates:
            detail.append(f"{r.future_dates:,} after today (the latest {r.latest_date}), kept "
                          "as given: check the column if they should be past")
        if r.mixed_date_orders:
            detail.append(f"{r.mixed_date_orders:,} dates only readable the other way round: "
                          "the column mixes day-first and month-first dates")
        if r.currency_parsed:
            detail.append(f"{r.currency_parsed:,} currency strings parsed"
                          + (f" ({r.currency})" if r.currency else ""))
        if r.multiplied:
            detail.append(f"{r.multiplied:,} with a multiplier (K, M, bn) multiplied out")
        if r.negatives and r.kind == "number":
            detail.append(f"{r.negatives:,} negative (minus sign or parentheses)")
        if r.decimal_comma:
            detail.append("decimal comma")
        if r.folded:
            shown = ", ".join(f"'{k}' → '{v}'" for k, v in list(r.folded.items())[:3])
            detail.append(f"{r.folded_cells:,} cells differing only by case or spaces merged: "
                          f"{shown}" + ("…" if len(r.folded) > 3 else ""))
        if r.kept_unknown:
            detail.append("kept as a value, apart from blanks: " + ", ".join(
                f"'{k}' ×{n:,}" for k, n in r.kept_unknown.items()))
        blank = r.missing_spellings.get("(blank)")
        placeholders = {k: n for k, n in r.missing_spellings.items() if k != "(blank)"}
        if blank:
            detail.append(f"blank ×{blank:,}")
        if placeholders:
            detail.append("placeholders read as missing: " + ", ".join(
                f"'{k}' ×{n:,}" for k, n in placeholders.items()))
        rows.append({"Column": r.column, "Field": r.field, "Read": r.values,
                     "Missing": r.missing, "Unreadable": r.failed,
                     "Details": "; ".join([*(["e.g. " + ", ".join(r.failed_examples)]
                                             if r.failed_examples else []), *detail])})
    if rows:
        counts = {h: st.column_config.NumberColumn(h, format=format.COUNT_FORMAT)
                  for h in ("Read", "Missing", "Unreadable")}
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                     column_config={"Details": st.column_config.TextColumn(width="large"),
                                    **counts})
        unreadable = [r for r in v.columns if r.failed]
        for r in unreadable:
            st.warning(format.markdown_text(
                f"{v.file_name}, column '{r.column}': {r.failed:,} value(s) could not be read "
                f"as {r.kind} (for example {', '.join(r.failed_examples)}); they are loaded as "
                "missing. Map another column or fix them in the file."))


def _preset_controls(current: Mapping, fid: str) -> None:
    with st.expander("Save this mapping as a preset"):
        name = st.text_input("Preset name", key=f"presetname.{fid}",
                             placeholder="e.g. Our HubSpot deals export")
        if st.button("Save preset", key=f"presetsave.{fid}", disabled=not name.strip()):
            refused = workspace_ui.keep("mapping_preset", name.strip(), preset_value(current))
            if refused:
                st.error(format.markdown_text(refused))
            else:
                st.success(f"Saved '{format.markdown_text(name.strip())}' in the workspace: "
                           "every member can start from it.")
        st.download_button("Download mapping (JSON)", current.to_json,
                           file_name="handoff-mapping.json", mime="application/json",
                           key=f"presetdl.{fid}", on_click="ignore")


def preset_upload() -> None:
    """Reuse mappings saved earlier: upload the JSON files downloaded from a file card."""
    files = st.file_uploader("Mapping presets (JSON) saved earlier", type=["json"],
                             accept_multiple_files=True, key="data.presets")
    for f in files or []:
        try:
            preset = Mapping.from_json(f.getvalue())
        except ValueError as e:
            st.error(f"{format.markdown_text(f.name)} is not a Handoff mapping preset "
                     f"({format.markdown_text(str(e))}). Download a preset from a file card "
                     "and upload that file unchanged.")
            continue
        done: set[str] = state.PRESET_FILES.setdefault(set)
        if f.file_id not in done:  # an upload stays in the box: saved once, not every run
            refused = workspace_ui.keep("mapping_preset", f.name.removesuffix(".json"),
                                        preset_value(preset))
            if refused:
                st.error(format.markdown_text(refused))
            else:
                done.add(f.file_id)
    saved = kept_presets()
    if saved:
        st.caption("Presets in this workspace: " + format.markdown_text(", ".join(saved)))


def preset_value(preset: Mapping) -> dict:
    """A mapping as the workspace stores it: the JSON a preset download holds."""
    return json.loads(preset.to_json())


def kept_presets() -> dict[str, Mapping]:
    """The mapping presets saved in the workspace, by name, newest first; each checked as an
    uploaded preset is (one that no longer reads is left out)."""
    out: dict[str, Mapping] = {}
    for item in workspace_ui.kept_items("mapping_preset"):
        try:
            out[item.name] = Mapping.from_json(json.dumps(item.value))
        except ValueError:
            continue
    return out
