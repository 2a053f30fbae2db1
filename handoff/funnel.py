"""The funnel: counts per stage, conversion and drop-off, and the sentences a room reads first.

Every count comes from a query in `queries/`; this module only zero-fills, orders and derives
ratios from those small results, so each number on the page can be traced to one query.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from handoff.db import Database, query
from handoff.filters import Filters
from handoff.schema import LEAD_STAGE_LABELS, LEAD_STAGE_RANK, LEAD_STAGES
from handoff.summary import lead_deal_links

VIEWS = {"cohort": "Cohort: entities created in the period, followed through",
         "in_period": "In period: stage events that happened in the period"}
LEAD_BREAKDOWNS = {"none": "No breakdown", "source": "Source / channel", "segment": "Segment",
                   "owner": "Owner (SDR)"}
DEAL_BREAKDOWNS = {"none": "No breakdown", "source": "Lead source", "segment": "Segment",
                   "owner": "Owner (rep)", "product": "Product"}
UNITS = {"leads": "Leads", "accounts": "Accounts", "deals": "Deals"}
ARTICLE_STAGES = ("awareness", "consideration", "sale", "loyalty", "advocacy")
FIVE_STAGES = ("The five stages: awareness (visits) → consideration (leads) → sale (customers) "
               "→ loyalty (customers retained) → advocacy (evangelists and referrers).")


@dataclass(frozen=True)
class FunnelRequest:
    """What the user asked for on the Funnel page."""

    unit: str = "leads"  # leads | accounts | deals
    view: str = "cohort"
    window_days: int = 0
    breakdown: str = "none"
    collapse: bool = False  # the five funnel stages (awareness … advocacy), not CRM stages
    lost_after: int | None = None  # deals: stage position lost deals are counted to


@dataclass
class Funnel:
    """The funnel table (one row per group and stage) and what to say about it."""

    table: pd.DataFrame
    headline: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    has_money: bool = False


def funnel(db: Database, f: Filters, req: FunnelRequest) -> Funnel:
    if req.unit == "deals":
        return deal_funnel(db, f, req)
    if req.collapse:
        return article_funnel(db, f, req.breakdown)
    return lead_funnel(db, f, req)


def lead_stages_present(db: Database) -> list[str]:
    """Lifecycle stages the data has: a stage value in use, or a date column for the stage."""
    used = db.fact("lead_stages_used",
                   lambda: set(query(db, "lead_stages_present")["stage"]))
    dated = {s for s in LEAD_STAGES if f"{s}_at" in db.fields_present.get("leads", set())}
    return [s for s in LEAD_STAGES if s == "lead" or s in used or s in dated]


def lead_funnel(db: Database, f: Filters, req: FunnelRequest) -> Funnel:
    present = lead_stages_present(db)
    params = {**f.params(), "breakdown": req.breakdown, "unit": req.unit}
    notes = [f"Breakdown values are each lead's own {req.breakdown}, set when it entered the "
             "funnel."] if req.breakdown != "none" else []
    notes += undated_notes(db, f, req)
    if req.view == "in_period" and db.has("leads", "created_at"):
        raw = query(db, "funnel_leads_in_period", **params)
        undated = [s for s in present if s != "lead"
                   and f"{s}_at" not in db.fields_present.get("leads", set())]
        if undated:
            present = [s for s in present if s not in undated]
            notes.append("In-period counts need a date per stage, so these stages are left "
                         "out: " + ", ".join(LEAD_STAGE_LABELS[s] for s in undated) + ".")
        notes.append("In period: each stage counts the leads that reached it in the period, "
                     "whenever they were created, so later stages can exceed earlier ones.")
    else:
        raw = query(db, "funnel_leads_cohort", **params, window_days=int(req.window_days),
                    include_undated=f.all_time)
        if req.window_days:
            notes.append(f"A stage counts only when reached within {req.window_days} days of "
                         "the previous stage (and its date is known).")
        if not any(f"{s}_at" in db.fields_present.get("leads", set()) for s in present[1:]):
            notes.append("Only the current stage is known: a lead at a later stage is counted "
                         "as having passed every earlier stage.")
    table = _complete(raw, [(s, LEAD_STAGE_RANK[s]) for s in present])
    table["label"] = table["stage"].map(LEAD_STAGE_LABELS)
    # Revenue follows a cohort's leads to their won deals; stage events in a period have no
    # revenue of their own, so the in-period view has no money columns.
    has_money = (req.view == "cohort" and db.has("deals", "amount")
                 and bool(lead_deal_links(db).linked))
    table = with_conversion(table)
    steps = query(db, "funnel_step_days", **f.params()) if req.view == "cohort" else None
    return Funnel(table, headline(table, steps, req.unit), notes, has_money)


def undated_notes(db: Database, f: Filters, req: FunnelRequest) -> list[str]:
    """What the funnel can say about leads without dates, in words."""
    if not db.row_counts.get("leads"):
        return []
    if not db.has("leads", "created_at"):
        notes = ["These leads have no dates: every count is over all time, and periods "
                 "cannot be chosen (the date filter is off)."]
        if req.view == "in_period":
            notes.append("In-period counts need dates, so the leads are counted as one "
                         "cohort instead.")
        return notes
    if not f.all_time:
        return ["Leads without a created date appear only in the all-time view (the whole "
                "date range)."] if undated_leads(db) else []
    return []


def undated_leads(db: Database) -> int:
    """Leads without a created date, in all the loaded data."""
    return db.fact("undated_leads", lambda: int(query(db, "undated_leads").iloc[0, 0]))


def deal_funnel(db: Database, f: Filters, req: FunnelRequest) -> Funnel:
    raw = query(db, "funnel_deals", **f.params(), by=req.breakdown, definition="cohort",
                sales_sources=[], lost_after=int(req.lost_after or 0),
                include_undated=f.all_time)
    order = raw.drop_duplicates("position").sort_values("position")
    open_stages = max(len(order) - 1, 0)
    lost_after = min(req.lost_after or open_stages, open_stages)
    table = _complete(raw, list(zip(order.stage, order.position, strict=True)))
    table["label"] = table["stage"]
    notes = []
    assumed = int(table["lost_by_rule"].sum()) if "lost_by_rule" in table else 0
    if open_stages and assumed:
        stage = order.stage.iloc[min(lost_after, open_stages) - 1] if len(order) else "?"
        notes.append(f"{assumed:,} lost deal(s) have no stage history here and no open stage "
                     f"of their own, so each is counted as having reached '{stage}' and "
                     "dropped after it (change this below).")
    elif open_stages and table["lost_here"].sum() and not db.row_counts.get("stage_history"):
        notes.append("Lost deals are counted at the stage the file gives them (their last "
                     "stage before they were lost).")
    if not f.all_time:
        notes.append("Deals are counted by their created date (their close date when there "
                     "is none); deals without any date appear only in the all-time view.")
    if req.breakdown != "none":
        notes.append(f"Breakdown values are each deal's own {req.breakdown}.")
    table = with_conversion(table)
    return Funnel(table, deal_headline(table), notes, db.has("deals", "amount"))


def article_funnel(db: Database, f: Filters, breakdown: str = "none") -> Funnel:
    """The five funnel stages for leads created in the period, optionally per group.
    Awareness (visits) can be split by source only: visits have a channel, not a segment."""
    raw = query(db, "funnel_articles", **f.params(), breakdown=breakdown, unit="leads",
                include_undated=f.all_time)
    if raw.empty:
        raw = pd.DataFrame({"grp": ["All"], "awareness": [0], "awareness_rows": [0],
                            "consideration": [0], "sale": [0], "loyalty": [0],
                            "advocacy": [0], "linked_customers": [0]})
    notes = [FIVE_STAGES + " Consideration counts the leads created in the period; sale, "
             "loyalty and advocacy follow those leads."]
    has_awareness = bool(raw["awareness_rows"].sum())
    has_loyalty = bool(raw["linked_customers"].sum())
    if not db.row_counts.get("awareness"):
        notes.append("Awareness needs an awareness file (visits or impressions per period).")
    elif breakdown not in ("none", "source"):
        has_awareness = False
        notes.append(f"Awareness is left out: visits have a channel but no {breakdown}.")
    if not has_loyalty:
        notes.append("Loyalty needs a customers file linked to the leads by lead id.")
    if breakdown != "none":
        notes.append(f"Breakdown values are each lead's own {breakdown}"
                     + (" (visits by their channel)." if has_awareness else "."))
    stages = [s for s in ARTICLE_STAGES
              if (s != "awareness" or has_awareness) and (s != "loyalty" or has_loyalty)]
    long = raw.melt(id_vars=["grp"], value_vars=stages, var_name="stage",
                    value_name="entities")
    long["position"] = long["stage"].map({s: i for i, s in enumerate(stages, start=1)})
    table = _complete(long, list(zip(stages, range(1, len(stages) + 1), strict=True)))
    table["label"] = table["stage"].str.capitalize()
    table = with_conversion(table)
    return Funnel(table, headline(table, None, "counted"), notes, False)


def _complete(raw: pd.DataFrame, stages: list[tuple[str, int]]) -> pd.DataFrame:
    """One row per group and stage, zero where nothing reached it, in funnel order."""
    groups = sorted(raw["grp"].unique()) if len(raw) else ["All"]
    grid = pd.DataFrame([(g, s, p) for g in groups for s, p in stages],
                        columns=["grp", "stage", "position"])
    out = grid.merge(raw.drop(columns=["position"], errors="ignore"), on=["grp", "stage"],
                     how="left")
    counts = [c for c in out.columns if c not in ("grp", "stage", "position", "margin_won")]
    out[counts] = out[counts].fillna(0)
    out["entities"] = out["entities"].astype("int64")
    return out.sort_values(["grp", "position"]).reset_index(drop=True)


def with_conversion(table: pd.DataFrame) -> pd.DataFrame:
    """Conversion from the previous and the first stage, and the drop-off in count and %."""
    out = table.copy()
    by = out.groupby("grp", sort=False)["entities"]
    previous = by.shift(1)
    first = by.transform("first")
    out["from_previous"] = (out["entities"] / previous.where(previous > 0)).astype("float64")
    out["from_first"] = (out["entities"] / first.where(first > 0)).astype("float64")
    out["drop"] = (previous - out["entities"]).astype("float64")
    out["drop_pct"] = 1 - out["from_previous"]
    return out


def headline(table: pd.DataFrame, steps: pd.DataFrame | None, unit: str) -> list[str]:
    """The biggest drop and the slowest step, in words (for the whole, not per group)."""
    whole = table.groupby(["stage", "position", "label"], as_index=False)["entities"].sum()
    whole = with_conversion(whole.assign(grp="All").sort_values("position"))
    lines = []
    # Visits → leads and customer → advocate are different kinds of step from the hand-offs
    # between lead and sale; comparing their drop-offs with those would mislead.
    steps_ok = whole.dropna(subset=["from_previous"])
    steps_ok = steps_ok[~steps_ok["stage"].isin(["evangelist", "advocacy", "consideration"])]
    if len(steps_ok):
        worst = steps_ok.loc[steps_ok["from_previous"].idxmin()]
        before = whole.loc[whole.position < worst.position].iloc[-1]
        lines.append(f"Biggest drop: {before.label} → {worst.label}. {worst.drop_pct:.0%} of "
                     f"those at {before.label} did not reach {worst.label} "
                     f"({int(worst['drop']):,} of {int(before.entities):,} {unit}).")
    if steps is not None and len(steps):
        labels = {LEAD_STAGE_RANK[s]: LEAD_STAGE_LABELS[s] for s in LEAD_STAGES}
        shown = set(whole.position)
        steps = steps[steps.position.isin(shown) & steps.position.sub(1).isin(shown)]
        if len(steps) and steps["median_days"].max() > 0:  # all same-day: nothing is slow
            slow = steps.loc[steps["median_days"].idxmax()]
            lines.append(f"Slowest step: {labels[slow.position - 1]} → {labels[slow.position]}"
                         f", median {slow.median_days:.0f} days (75% within "
                         f"{slow.p75_days:.0f}, 90% within {slow.p90_days:.0f}).")
    return lines


def deal_headline(table: pd.DataFrame) -> list[str]:
    """Where deals stop, with lost and still open apart: an open deal has not dropped."""
    whole = table.groupby(["stage", "position", "label"], as_index=False)[
        ["entities", "lost_here", "open_here"]].sum().sort_values("position")
    if len(whole) < 2 or not whole.entities.iloc[0]:
        return []
    first, last = whole.iloc[0], whole.iloc[-1]
    lost, still = int(whole.lost_here.sum()), int(whole.open_here.sum())
    n = int(first.entities)
    lines = [f"Of {n:,} deals: {int(last.entities):,} won ({last.entities / n:.0%}), "
             f"{lost:,} lost ({lost / n:.0%}) and {still:,} still open ({still / n:.0%}). "
             "Open deals are not counted as dropped: they may still close."]
    steps = with_conversion(whole.assign(grp="All")).iloc[1:]
    worst = steps.loc[steps["from_previous"].idxmin()]
    before = whole[whole.position < worst.position].iloc[-1]
    if before.position != first.position or len(whole) > 2:
        lines.append(f"Biggest drop: {before.label} → {worst.label}. Of "
                     f"{int(before.entities):,} deals at {before.label}, "
                     f"{int(worst.entities):,} reached {worst.label}; "
                     f"{int(before.lost_here):,} were lost there and "
                     f"{int(before.open_here):,} are still open there.")
    return lines


def records(db: Database, f: Filters, req: FunnelRequest, position: int, which: str,
            limit: int = 50_000) -> pd.DataFrame:
    """Drill-down: the leads or deals that reached a stage, or stopped at it."""
    if req.unit == "deals":
        return query(db, "funnel_records_deals", **f.params(), by="none", definition="cohort",
                     sales_sources=[], lost_after=int(req.lost_after or 0),
                     include_undated=f.all_time, position=int(position), which=which,
                     limit=int(limit))
    return query(db, "funnel_records_leads", **f.params(), include_undated=f.all_time,
                 breakdown="none", unit="leads", position=int(position),
                 which=which, limit=int(limit))
