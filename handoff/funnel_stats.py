"""Questions a room asks of the funnel: did this period really change, how long does a step
take, are recent cohorts converting worse, is a segment running out of customers?"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from statsmodels.stats.proportion import confint_proportions_2indep

from handoff.db import Database, query
from handoff.filters import EARLIEST, LATEST, Filters
from handoff.funnel import FunnelRequest, funnel
from handoff.schema import LEAD_STAGE_LABELS, LEAD_STAGE_RANK, LEAD_STAGES

ARTICLE_AS_LEAD = {"consideration": "lead", "sale": "customer", "advocacy": "evangelist"}


def step_days(db: Database, req: FunnelRequest) -> dict[str, float]:
    """The typical (median) days each step of this funnel needs, over all the data, keyed by
    the step's name ("MQL → SQL"). A cohort step counts from the leads' creation (a lead
    created on the period's last day must get through every step before it); an in-period
    step takes its own time; a deal step, the median days from created to won."""
    everything = Filters(EARLIEST, LATEST, all_time=True)
    table = funnel(db, everything, FunnelRequest(req.unit, req.view, 0, "none", req.collapse,
                                                 req.lost_after)).table
    stages = table.sort_values("position")
    names = [f"{a} → {b}" for a, b in zip(stages.label.iloc[:-1], stages.label.iloc[1:],
                                          strict=True)]
    if req.unit == "deals":
        cycle = query(db, "sales_cycle", **everything.params(), by="none", sales_sources=[],
                      definition="closed")
        median = float(cycle.median_days.iloc[0]) if len(cycle) and pd.notna(
            cycle.median_days.iloc[0]) else None
        return {n: median for n in names} if median is not None else {}
    steps = query(db, "funnel_step_days", **everything.params())
    own = {int(r.position): float(r.median_days) for r in steps.itertuples()
           if pd.notna(r.median_days)}
    cumulative, total = {}, 0.0
    for position in range(2, len(LEAD_STAGES) + 1):
        total += own.get(position, 0.0)
        cumulative[position] = total
    out = {}
    for name, stage in zip(names, stages.stage.iloc[1:], strict=True):
        lead_stage = ARTICLE_AS_LEAD.get(stage, stage) if req.collapse else stage
        if lead_stage not in LEAD_STAGES or lead_stage == "lead":
            continue
        position = LEAD_STAGE_RANK[lead_stage]
        days = own.get(position) if req.view == "in_period" and not req.collapse \
            else cumulative.get(position)
        if days:
            out[name] = days
    return out


def overlap_days(a: Filters, b: Filters) -> int:
    """Days two periods share (0 when they do not overlap)."""
    return max((min(a.end, b.end) - max(a.start, b.start)).days + 1, 0)


def compare_periods(db: Database, current: Filters, other: Filters,
                    req: FunnelRequest) -> pd.DataFrame:
    """Per step, conversion in each period, the change in points and its 95% interval.

    The interval is Newcombe's (hybrid Wilson score) for a difference of two independent
    proportions: sound for small counts, where the simple Wald interval is not. A step is
    still maturing when a period ended fewer than the step's typical days before the
    data's last date: its conversion will still rise, so it gets no verdict.
    """
    req = FunnelRequest(req.unit, req.view, req.window_days, "none", req.collapse,
                        req.lost_after)
    a = _steps(funnel(db, current, req).table)
    b = _steps(funnel(db, other, req).table)
    both = a.merge(b, on="step", how="left", suffixes=("", "_other")).fillna(
        {"n_other": 0, "x_other": 0})
    rows = []
    for r in both.itertuples():
        n1, x1, n2, x2 = int(r.n), int(r.x), int(r.n_other), int(r.x_other)
        row = {"step": r.step, "this_n": n1, "this_x": x1, "other_n": n2, "other_x": x2,
               "this_rate": x1 / n1 if n1 else None, "other_rate": x2 / n2 if n2 else None}
        if n1 and n2 and x1 <= n1 and x2 <= n2:
            low, high = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb",
                                                   compare="diff")
            row.update(change=x1 / n1 - x2 / n2, ci_low=float(low), ci_high=float(high))
        rows.append(row)
    out = pd.DataFrame(rows)
    for column in ("change", "ci_low", "ci_high"):
        if column not in out:
            out[column] = None
    needs = step_days(db, req)
    last = query(db, "home_summary").iloc[0]
    as_of = max((pd.Timestamp(d) for d in (last.last_lead_at, last.last_deal_at)
                 if pd.notna(d)), default=None)
    latest_end = max(current.end, other.end)
    waited = (as_of.date() - latest_end).days if as_of is not None else None
    out["needs_days"] = [needs.get(step) for step in out["step"]] if len(out) else []
    out["maturing"] = [waited is not None and d is not None and waited < d
                       for d in out["needs_days"]] if len(out) else []
    out["verdict"] = [_verdict(r) for r in out.itertuples()]
    return out


def _steps(table: pd.DataFrame) -> pd.DataFrame:
    """Consecutive stage pairs of a one-group funnel: step name, entered (n), converted (x)."""
    t = table.sort_values("position")
    return pd.DataFrame({"step": [f"{a} → {b}" for a, b in zip(t.label.iloc[:-1],
                                                               t.label.iloc[1:], strict=True)],
                         "n": t.entities.iloc[:-1].to_numpy(),
                         "x": t.entities.iloc[1:].to_numpy()})


def _verdict(r) -> str:
    if r.maturing:
        return "still maturing"
    if r.change is None or pd.isna(r.change):
        return "not enough data"
    if r.ci_low > 0:
        return "up: more than noise"
    if r.ci_high < 0:
        return "down: more than noise"
    return "within noise"


@dataclass(frozen=True)
class TimeToConvert:
    started: int
    converted: int
    still_open: int
    converted_undated: int
    median_days: float | None
    p75_days: float | None
    p90_days: float | None
    weeks: pd.DataFrame  # week, leads


def time_to_convert(db: Database, f: Filters, from_stage: str, to_stage: str) -> TimeToConvert:
    """Days from one lifecycle stage to a later one; leads not there yet are still open."""
    p_from, p_to = LEAD_STAGE_RANK[from_stage], LEAD_STAGE_RANK[to_stage]
    if p_to <= p_from:
        raise ValueError("the second stage must come after the first")
    row = query(db, "time_to_convert", **f.params(), from_position=p_from,
                to_position=p_to).iloc[0]
    weeks = row.weeks if isinstance(row.weeks, dict) else {}
    frame = pd.DataFrame({"week": [int(k) for k in weeks], "leads": list(weeks.values())})
    frame = frame.sort_values("week").reset_index(drop=True)

    def num(v: object) -> float | None:
        return None if v is None or pd.isna(v) else float(v)

    return TimeToConvert(int(row.started), int(row.converted), int(row.still_open),
                         int(row.converted_undated), num(row.median_days), num(row.p75_days),
                         num(row.p90_days), frame)


def cohort_trend(db: Database, f: Filters, maturing_days: float | None = None) -> pd.DataFrame:
    """Conversion of each step by month of entry; recent cohorts flagged as still maturing.

    A cohort is still maturing when fewer than `maturing_days` (default: the 90th percentile
    of lead → customer time, or 90 days) separate its month's end from the latest lead date.
    """
    raw = query(db, "funnel_cohort_trend", **f.params())
    empty = pd.DataFrame(columns=["month", "step", "rate", "entered", "maturing"])
    if raw.empty:
        return empty
    if maturing_days is None:
        ttc = time_to_convert(db, f, "lead", "customer")
        maturing_days = ttc.p90_days or 90.0
    latest = pd.Timestamp(query(db, "home_summary").last_lead_at.iloc[0])
    month_end = raw["month"] + pd.offsets.MonthEnd(0)
    raw["maturing"] = (latest - month_end).dt.days < maturing_days
    rows = []
    for before, after in zip(LEAD_STAGES[:-1], LEAD_STAGES[1:], strict=True):
        if raw[after].sum() == 0:
            continue
        rows.append(pd.DataFrame({
            "month": raw["month"], "step": f"{LEAD_STAGE_LABELS[before]} → "
            f"{LEAD_STAGE_LABELS[after]}", "rate": raw[after] / raw[before].where(raw[before] > 0),
            "entered": raw[before], "maturing": raw["maturing"]}))
    return pd.concat(rows, ignore_index=True) if rows else empty


def capacity(db: Database, f: Filters) -> pd.DataFrame:
    """Cumulative new customers per segment by month: a flattening line is a saturating one."""
    raw = query(db, "new_customers_by_segment", **f.params())
    if raw.empty:
        return raw.assign(cumulative=pd.Series(dtype="int64"))
    grid = pd.MultiIndex.from_product([sorted(raw.month.unique()), sorted(raw.segment.unique())],
                                      names=["month", "segment"])
    full = raw.set_index(["month", "segment"]).reindex(grid, fill_value=0).reset_index()
    full["cumulative"] = full.groupby("segment")["new_customers"].cumsum()
    return full
