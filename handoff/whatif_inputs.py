"""What the What-if page starts from, measured on the loaded data: the model's baseline
(whatif.baseline_from over queries/kpi_periods.sql), each objective's attainment in the last
complete quarter, and that quarter. The model itself (handoff/whatif.py) stays pure."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from handoff import close_rates, kpis, objectives, summary, whatif
from handoff.db import Database
from handoff.filters import Filters, filter_options


@dataclass(frozen=True)
class WhatifInputs:
    """The baseline (None when the data has no complete quarter with leads), each
    objective's attainment against default targets, and the quarter it judges."""

    baseline: whatif.Baseline | None
    attainment: dict[str, float | None] = field(default_factory=dict)
    quarter: str = ""
    needs: tuple[str, ...] = ()  # what the data lacks for a baseline, in words


# The rates the model chains (lead → MQL → SQL → won): one that cannot be measured would be
# 0 and every projection after it 0, so the page says what it needs instead.
CHAIN_KPIS = ("leads", "mqls", "acceptance", "win_rate")


def whatif_inputs(db: Database, f: Filters) -> WhatifInputs:
    """The what-if model's baseline (last four complete quarters), each objective's
    attainment against default targets in the last complete quarter, and that quarter."""
    loaded = summary.home_summary(db)
    lacking = {kpis.KPI_BY_KEY[k].label: kpis.missing(db, kpis.KPI_BY_KEY[k])
               for k in CHAIN_KPIS}
    needs = tuple(f"{label}: {need}" for label, need in lacking.items() if need)
    if needs:
        return WhatifInputs(None, needs=needs)
    if loaded.last_date is None:
        return WhatifInputs(None)
    sources = filter_options(db).get("source", [])
    p = objectives.periods(db, f, "quarter", tuple(close_rates.default_sales_sources(sources)),
                           kpis.DEFAULT_SLA_HOURS)
    if p.empty:
        return WhatifInputs(None)
    as_of = loaded.complete_through
    complete = [i for i, x in enumerate(p.period) if objectives.period_end(x, "quarter")
                <= as_of + pd.Timedelta(days=1)]
    last = complete[-1] if complete else len(p) - 1
    life = objectives.lifetime(db, as_of.to_pydatetime())
    if db.row_counts.get("customers"):
        customers = life.active_customers
    else:
        customers = float(p.new_customers.iloc[: last + 1].sum())
    advocates = float(p.evangelists.iloc[: last + 1].sum())
    baseline = whatif.baseline_from(p, customers, advocates, last)
    v = objectives.values(p, life, {})
    targets = objectives.default_targets(v.iloc[:last])
    scores: dict[str, float | None] = {}
    for objective, keys in kpis.OBJECTIVE_KPIS.items():
        scores[objective] = None
        for key in keys:
            if kpis.missing(db, kpis.KPI_BY_KEY[key]) is None:
                scores[objective] = objectives.attainment(kpis.KPI_BY_KEY[key],
                                                          v[key].iloc[last], targets.get(key))
                break
    return WhatifInputs(baseline, scores, objectives.period_label(p.period.iloc[last],
                                                                  "quarter"))


def baseline_rates_note(baseline: whatif.Baseline) -> str:
    """Which MQL → SQL the baseline uses, by name, since the Funnel and Objectives pages
    count it differently."""
    return f"{kpis.MQL_TO_SQL_IN_PERIOD.over(baseline.measured)} at {baseline.mql_to_sql:.1%}"
