"""Questions a room asks of the funnel: did this period really change, how long does a step
take, are recent cohorts converting worse, is a segment running out of customers?"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from statsmodels.stats.proportion import confint_proportions_2indep

from handoff.db import Database, query
from handoff.filters import Filters
from handoff.funnel import FunnelRequest, funnel
from handoff.schema import LEAD_STAGE_LABELS, LEAD_STAGES


def compare_periods(db: Database, current: Filters, other: Filters,
                    req: FunnelRequest) -> pd.DataFrame:
    """Per step, conversion in each period, the change in points and its 95% interval.

    The interval is Newcombe's (hybrid Wilson score) for a difference of two independent
    proportions: sound for small counts, where the simple Wald interval is not.
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
    p_from, p_to = LEAD_STAGES.index(from_stage) + 1, LEAD_STAGES.index(to_stage) + 1
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
