"""Edge-case canonical data, the query calls the pages make, and result comparison, for the
DuckDB-vs-Spark differential test (tests/test_spark_parity.py).

The data is small on purpose (Spark's per-query overhead, not the data, sets the test's
time) and built to break a careless transpilation: empty groups, NULLs everywhere a field
may be missing, zero denominators, timestamps on month, quarter, year and ISO-week
boundaries, a leap day, sub-second times either side of a second, the hour a US clock skips
(2024-03-10 02:30), ties in every ORDER BY, a rep listed twice in the teams file.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator

import numpy as np
import pandas as pd

from handoff.filters import Filters
from handoff.schema import LEAD_STAGES

BOUNDARIES = [
    "2024-01-31 23:59:59.999", "2024-02-01 00:00:00", "2024-02-29 12:00:00",  # leap day
    "2024-03-01 00:00:00.000001", "2024-03-10 02:30:00", "2024-03-31 23:59:59.5",
    "2024-04-01 00:00:00.4", "2024-06-30 23:59:59", "2024-07-01 00:00:00",
    "2024-12-29 23:59:59", "2024-12-30 00:00:00",  # Sunday → Monday of ISO week 2025-W01
    "2024-12-31 23:59:59.999999", "2025-01-01 00:00:00", "2025-02-28 23:59:59",
    "2025-03-01 00:00:00", "2023-12-31 12:00:00",
]
SOURCES = ["Paid search", "Referral program", "Events", "Outbound", None]
SEGMENTS = ["SMB", "Mid-market", "Enterprise", None]
OWNERS = ["Ana", "Ben", "Chloé", "Dev", None]
PIPELINE = ["Discovery", "Demo", "Proposal", "Negotiation"]


def _times(rng: np.random.Generator, n: int, start: str = "2023-11-01",
           days: int = 500) -> pd.Series:
    """Random timestamps with sub-second parts, the boundary instants mixed in."""
    base = pd.Timestamp(start)
    micros = rng.integers(0, days * 86_400_000_000, n)
    out = pd.Series(base + pd.to_timedelta(micros, unit="us"))
    fixed = pd.to_datetime(pd.Series(BOUNDARIES), format="ISO8601")
    take = min(n, len(fixed))
    out.iloc[:take] = fixed.iloc[:take].to_numpy()
    return out


def edge_tables(seed: int = 15) -> dict[str, pd.DataFrame]:
    """The canonical tables, edge cases included (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    n = 240
    created = _times(rng, n)
    created.iloc[rng.choice(n, 12, replace=False)] = pd.NaT  # undated leads
    rank = rng.choice(6, n, p=[0.3, 0.25, 0.15, 0.12, 0.12, 0.06]) + 1
    leads = pd.DataFrame({
        "lead_id": [f"L{i:04d}" for i in range(n)],
        "created_at": created,
        "source": rng.choice(np.array(SOURCES, dtype=object), n),
        "origin": rng.choice(np.array(["form", "import", None], dtype=object), n),
        "segment": rng.choice(np.array(SEGMENTS, dtype=object), n),
        "owner": rng.choice(np.array(OWNERS, dtype=object), n),
        "account": [f"A{int(i):03d}" if i % 7 else None for i in rng.integers(0, 90, n)],
        "stage": [LEAD_STAGES[r - 1] for r in rank],
    })
    leads.loc[5, "source"] = "referral"  # lower(source) like '%referral%'
    anchor = created.fillna(pd.Timestamp("2024-06-15 09:00:00"))
    at = anchor
    for i, stage in enumerate(LEAD_STAGES, start=1):
        if i == 1:
            leads["lead_at"] = created.where(rng.random(n) < 0.8)
            continue
        # steps of 0 s to 90 days, some exactly equal (ties), a few going backwards
        step = pd.to_timedelta(rng.integers(-2 * 86_400_000_000, 90 * 86_400_000_000, n),
                               unit="us")
        step = step.where(rng.random(n) > 0.1, pd.Timedelta(0))
        at = at + step
        known = (rank >= i) & (rng.random(n) < 0.85)
        leads[f"{stage}_at"] = at.where(known)
    # the same moment a second apart either way, across a boundary
    leads.loc[1, ["mql_at", "sql_at"]] = [pd.Timestamp("2024-02-29 23:59:59.9"),
                                          pd.Timestamp("2024-03-01 00:00:00.1")]
    leads.loc[1, "stage"] = "sql"

    m = 130
    d_created = _times(rng, m, "2023-12-01", 420)
    status = rng.choice(np.array(["open", "won", "lost"], dtype=object), m, p=[.3, .4, .3])
    closed = (d_created + pd.to_timedelta(rng.integers(0, 200 * 86_400_000_000, m), unit="us")
              ).where(status != "open")
    d_created.iloc[[3, 4]] = pd.NaT  # a deal dated only by its close, one with no date at all
    closed.iloc[4] = pd.NaT
    stage = [PIPELINE[int(i)] if s == "open" else ("Closed Won" if s == "won" else
                                                  "Closed Lost")
             for i, s in zip(rng.integers(0, 4, m), status, strict=True)]
    amount = np.round(rng.lognormal(9, 1, m), 2)
    amount[rng.choice(m, 6, replace=False)] = np.nan
    margin = np.where(rng.random(m) < 0.7, np.round(amount * 0.3, 2), np.nan)
    deals = pd.DataFrame({
        "deal_id": [f"D{i:04d}" for i in range(m)],
        "lead_id": [f"L{int(i):04d}" if i < n else f"X{int(i)}" if i < n + 20 else None
                    for i in rng.integers(0, n + 40, m)],
        "account": [f"A{int(i):03d}" for i in rng.integers(0, 90, m)],
        "created_at": d_created, "closed_at": closed, "stage": stage, "status": status,
        "stage_order": [PIPELINE.index(s) + 1 if s in PIPELINE else 5 + (s == "Closed Lost")
                        for s in stage],
        "amount": amount, "margin": margin,
        "owner": rng.choice(np.array(OWNERS, dtype=object), m),
        "source": rng.choice(np.array(SOURCES, dtype=object), m),
        "segment": rng.choice(np.array(SEGMENTS[:3], dtype=object), m),  # no None here
        "product": rng.choice(np.array(["Core", "Pro", None], dtype=object), m),
    })
    lost = deals.index[deals.status == "lost"][:20]
    history = pd.DataFrame({
        "deal_id": np.repeat(deals.deal_id[lost].to_numpy(), 2),
        "stage": [PIPELINE[int(i)] for i in rng.integers(0, 4, 2 * len(lost))],
        "entered_at": np.repeat(deals.created_at[lost].fillna(pd.Timestamp("2024-05-01"))
                                .to_numpy(), 2),
    })
    teams = pd.DataFrame({"owner": ["Ana", "Ben", "Ben", "Chloé", "Eve"],
                          "manager": ["Mia", "Zed", "Mia", None, "Mia"],
                          "team": ["North", "South", "North", "North", None]})
    months = pd.date_range("2023-12-01", "2025-03-01", freq="MS")
    spend = pd.DataFrame({"month": np.repeat(months, 3),
                          "channel": np.tile(np.array(["Paid search", "Events", None],
                                                      dtype=object), len(months)),
                          "amount": np.round(rng.uniform(0, 5000, 3 * len(months)), 2)})
    spend.loc[0, "amount"] = 0.0
    awareness = spend.rename(columns={"amount": "visits"}).assign(
        visits=rng.integers(0, 20000, len(spend)).astype(float))
    k = 70
    started = _times(rng, k, "2023-06-01", 500)
    started.iloc[[0, 1]] = pd.NaT
    churned_at = (started + pd.to_timedelta(rng.integers(1, 400, k), unit="D")).where(
        rng.random(k) < 0.35)
    customers = pd.DataFrame({
        "customer_id": [f"C{i:03d}" for i in range(k)],
        "lead_id": [f"L{int(i):04d}" if i < n else None for i in rng.integers(0, n + 30, k)],
        "account": [f"A{int(i):03d}" for i in rng.integers(0, 90, k)],
        "segment": rng.choice(np.array(SEGMENTS, dtype=object), k),
        "started_at": started, "churned_at": churned_at,
        "churned": pd.array([None if i % 4 == 0 else bool(c) for i, c in
                             enumerate(churned_at.notna())], dtype="boolean"),
        "tenure_months": np.where(rng.random(k) < 0.2, np.round(rng.uniform(0, 40, k), 1),
                                  np.nan),
        "monthly_revenue": np.where(rng.random(k) < 0.8, np.round(rng.uniform(50, 900, k), 2),
                                    np.nan),
        "total_revenue": np.where(rng.random(k) < 0.6, np.round(rng.uniform(0, 9000, k), 2),
                                  np.nan),
        "renewals": pd.array(rng.integers(0, 3, k), dtype="Int64"),
        "referrals": pd.array([None if i % 5 == 0 else int(v) for i, v in
                               enumerate(rng.integers(0, 3, k))], dtype="Int64"),
        "nps": pd.array([None if i % 3 == 0 else int(v) for i, v in
                         enumerate(rng.integers(0, 11, k))], dtype="Int64"),
    })
    return {"leads": leads, "deals": deals, "stage_history": history, "teams": teams,
            "spend": spend, "customers": customers, "awareness": awareness}


def _filters() -> Iterator[tuple[str, Filters]]:
    yield "all time", Filters(dt.date(1900, 1, 1), dt.date(2099, 12, 31), all_time=True)
    yield "Feb 2024 (leap), Paid search + SMB", Filters(
        dt.date(2024, 2, 1), dt.date(2024, 2, 29), ("Paid search",), ("SMB",))
    yield "a range with nothing in it", Filters(dt.date(2030, 1, 1), dt.date(2030, 3, 31))
    yield "2024, owners Ana and Ben", Filters(dt.date(2024, 1, 1), dt.date(2024, 12, 31),
                                              owners=("Ana", "Ben"))


def calls() -> list[tuple[str, dict[str, object]]]:
    """(query name, parameters) as the pages call them (see the handoff/*.py callers of
    `query(`). Each query's variants (groupings, views, grains) rotate over the filter sets,
    so every variant and every filter set is run without running every pair (Spark spends
    about a second on each call whatever the data's size)."""
    out: list[tuple[str, dict[str, object]]] = [
        ("home_summary", {}), ("filter_options", {}), ("lead_deal_links", {}),
        ("lead_stages_present", {}), ("undated_leads", {}),
        ("kpi_lifetime", {"as_of": dt.datetime(2025, 3, 1)}),
        ("kpi_lifetime", {"as_of": dt.datetime(2024, 2, 29, 12)}),
        ("loyalty_summary", {"segments": []}),
        ("loyalty_summary", {"segments": ["SMB", "Enterprise"]}),
        ("tenure_distribution", {"width": 3, "segments": []}),
        ("tenure_distribution", {"width": 1, "segments": ["SMB", "Enterprise"]}),
        ("retention_by_group", {"by": "segment", "segments": []}),
        ("retention_by_group", {"by": "none", "segments": ["SMB", "Enterprise"]}),
    ]
    for j, (_label, f) in enumerate(_filters()):
        p = f.params()
        undated = f.all_time
        variants: dict[str, list[dict[str, object]]] = {
            "cac_by_channel": [{"start": p["start"], "end": p["end"]}],
            "close_rates": [{**p, "by": by, "definition": definition,
                             "sales_sources": ["Outbound", "Events"],
                             "include_undated": undated}
                            for by, definition in (("owner", "closed"), ("sourcing", "cohort"),
                                                   ("quarter", "closed"), ("manager", "cohort"),
                                                   ("team", "closed"))],
            "sales_cycle": [{**p, "by": by, "sales_sources": ["Outbound"],
                             "definition": "closed"} for by in ("owner", "quarter", "none")],
            "funnel_leads_in_period": [{**p, "breakdown": b, "unit": u} for b, u in
                                       (("none", "leads"), ("source", "accounts"),
                                        ("owner", "leads"))],
            "funnel_leads_cohort": [{**p, "breakdown": b, "unit": u, "window_days": w,
                                     "include_undated": undated} for b, u, w in
                                    (("none", "leads", 0), ("source", "accounts", 7),
                                     ("segment", "leads", 7), ("owner", "accounts", 0))],
            "funnel_deals": [{**p, "by": b, "definition": "cohort", "sales_sources": [],
                              "lost_after": n, "include_undated": undated}
                             for b, n in (("none", 0), ("product", 2), ("segment", 9))],
            "funnel_articles": [{**p, "breakdown": b, "unit": "leads",
                                 "include_undated": undated}
                                for b in ("none", "source", "segment")],
            "funnel_step_days": [dict(p)],
            "funnel_records_deals": [{**p, "by": "none", "definition": "cohort",
                                      "sales_sources": [], "lost_after": 0,
                                      "include_undated": undated,
                                      "position": n, "which": w, "limit": 25}
                                     for w, n in (("reached", 3), ("dropped", 1),
                                                  ("dropped", 2))],
            "funnel_records_leads": [{**p, "include_undated": undated, "breakdown": "none",
                                      "unit": "leads", "position": n, "which": w, "limit": 25}
                                     for w, n in (("reached", 4), ("dropped", 2),
                                                  ("dropped", 3))],
            "time_to_convert": [{**p, "from_position": a, "to_position": b}
                                for a, b in ((1, 2), (2, 5), (4, 6))],
            "funnel_cohort_trend": [dict(p)],
            "new_customers_by_segment": [dict(p)],
            "lead_conversion": [{**p, "breakdown": b, "unit": "leads", "position": 5,
                                 "include_undated": undated}
                                for b in ("source", "origin", "none")],
            "kpi_periods": [{**p, "grain": g, "sales_sources": ["Outbound"], "sla_hours": 24.0}
                            for g in ("month", "quarter", "year")],
        }
        out += [(name, options[j % len(options)]) for name, options in variants.items()
                if j < 2 or name not in COSTLY]
    return out


# Spark plans these as dozens of small stages (a few seconds each on 2 cores): they run on
# the first two filter sets (all time, undated included; a leap-day month with filters) only.
COSTLY = {"kpi_periods", "funnel_leads_cohort", "funnel_deals", "funnel_records_deals",
          "funnel_leads_in_period", "funnel_articles"}


# --- comparing results ------------------------------------------------------------------------

REL = 1e-9


def differences(duck: pd.DataFrame, spark: pd.DataFrame, ordered: bool) -> list[str]:
    """How two results differ (empty: identical), after normalising types: any number is a
    float (floats equal to 1e-9 relative), any timestamp naive, maps and lists as Python
    values, NULL/NaN/None alike. `ordered`: rows must come in the same order."""
    if list(duck.columns) != list(spark.columns):
        return [f"columns {list(duck.columns)} vs {list(spark.columns)}"]
    if len(duck) != len(spark):
        return [f"{len(duck)} rows vs {len(spark)}"]
    a = [tuple(_value(v) for v in row) for row in duck.itertuples(index=False)]
    b = [tuple(_value(v) for v in row) for row in spark.itertuples(index=False)]
    if not ordered:
        a, b = sorted(a, key=_key), sorted(b, key=_key)
    found = []
    for i, (ra, rb) in enumerate(zip(a, b, strict=True)):
        for column, va, vb in zip(duck.columns, ra, rb, strict=True):
            if not _same(va, vb):
                found.append(f"row {i} {column}: {va!r} vs {vb!r}")
    return found[:10]


def _value(v: object) -> object:
    if isinstance(v, dict):
        return {_value(k): _value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return tuple(_value(x) for x in v)
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        return None if isinstance(v, (float, np.floating)) and math.isnan(v) else float(v)
    if hasattr(v, "to_pydatetime") or isinstance(v, dt.datetime):
        return pd.Timestamp(v).tz_localize(None) if pd.Timestamp(v).tzinfo else pd.Timestamp(v)
    if hasattr(v, "__float__") and not isinstance(v, str):  # Decimal
        return float(v)  # type: ignore[arg-type]
    return v


def _key(row: tuple) -> tuple:
    return tuple((x is None, repr(x)) for x in row)


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=REL, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b
