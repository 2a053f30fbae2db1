"""Close rates a sales leader can trust: counts, Wilson intervals, small-sample flags, a
ranking by what the data can vouch for, and comparisons stated in plain words."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd
from scipy.stats import fisher_exact
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from handoff.db import Database, query
from handoff.filters import Filters
from handoff.format import p_value

DEFINITIONS = {"closed": "Won ÷ closed (won + lost), deals closed in the period",
               "cohort": "Won ÷ all deals created in the period (open deals count as not won)"}
GROUPS = {"owner": "Rep", "manager": "Manager", "team": "Team", "source": "Lead source",
          "sourcing": "Marketing- vs sales-sourced", "segment": "Segment",
          "product": "Product", "quarter": "Quarter", "none": "Everyone"}
SMALL_SAMPLE = 30
_SALES_SOURCED = re.compile(r"outbound|cold|sales|prospect|sdr|self.?sourced|direct",
                            re.IGNORECASE)


def default_sales_sources(sources: list[str]) -> list[str]:
    """Sources that read as sales-generated (outbound, cold call, …); the user can edit."""
    return [s for s in sources if _SALES_SOURCED.search(s)]


def close_rates(db: Database, f: Filters, by: str = "owner", definition: str = "closed",
                sales_sources: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per group: won, lost, open, n, rate with its Wilson 95% interval, a
    small-sample flag, and a rank by the interval's lower bound (what the data vouches for)."""
    if by not in GROUPS or definition not in DEFINITIONS:
        raise ValueError(f"unknown grouping {by!r} or definition {definition!r}")
    rows = query(db, "close_rates", **f.params(), by=by, definition=definition,
                 sales_sources=list(sales_sources), include_undated=f.all_time)
    rows["n"] = rows["won"] + rows["lost"] + (rows["open_deals"] if definition == "cohort"
                                              else 0)
    return ranked_rates(rows)


def ranked_rates(rows: pd.DataFrame) -> pd.DataFrame:
    """Groups (`grp`, `won` of `n`) with their rate, Wilson 95% interval, small-sample flag
    and rank by the interval's lower end; groups with n = 0 are left out."""
    rows = rows[rows["n"] > 0].copy()
    rows["rate"] = rows["won"] / rows["n"]
    low, high = proportion_confint(rows["won"], rows["n"], alpha=0.05, method="wilson")
    rows["ci_low"], rows["ci_high"] = low.astype(float), high.astype(float)
    rows["small_sample"] = rows["n"] < SMALL_SAMPLE
    rows = rows.sort_values(["ci_low", "n"], ascending=[False, False]).reset_index(drop=True)
    rows["rank"] = range(1, len(rows) + 1)
    return rows


def only_won(rates: pd.DataFrame) -> bool:
    """Every deal counted is won: a file of won deals, where a close rate says nothing."""
    return bool(len(rates)) and int(rates["lost"].sum()) == 0 and int(
        rates["open_deals"].sum()) == 0


@dataclass(frozen=True)
class Comparison:
    test: str
    p_value: float
    significant: bool
    sentence: str


def compare(a: pd.Series, b: pd.Series, label: str = "group") -> Comparison:
    """Are two close rates really different? Fisher's exact test when any expected count is
    under 5, else the two-proportion z-test; the answer in one plain sentence."""
    x = [int(a.won), int(b.won)]
    n = [int(a.n), int(b.n)]
    total_rate = sum(x) / sum(n)
    expected = [n[0] * total_rate, n[0] * (1 - total_rate), n[1] * total_rate,
                n[1] * (1 - total_rate)]
    if min(expected) < 5:
        _, p = fisher_exact([[x[0], n[0] - x[0]], [x[1], n[1] - x[1]]])
        test = "Fisher's exact test"
    else:
        _, p = proportions_ztest(x, n)
        test = "two-proportion z-test"
    p = float(p)
    significant = p < 0.05
    verdict = ("is unlikely to be chance" if significant
               else "could well be chance: the data cannot tell them apart")
    sentence = (f"{a.grp} closes {x[0] / n[0]:.0%} ({x[0]} of {n[0]}) and {b.grp} "
                f"{x[1] / n[1]:.0%} ({x[1]} of {n[1]}). The difference {verdict} "
                f"({test}, {p_value(p)}).")
    return Comparison(test, p, significant, sentence)


def sales_cycle(db: Database, f: Filters, by: str = "owner",
                sales_sources: tuple[str, ...] = ()) -> pd.DataFrame:
    """Days from created to won per group: quartiles and the 90th percentile."""
    return query(db, "sales_cycle", **f.params(), by=by, sales_sources=list(sales_sources),
                 definition="closed")


def headline(rates: pd.DataFrame, group_label: str, unit: str = "deals") -> list[str]:
    """Who leads once uncertainty is counted, and who only looks best on few deals."""
    if rates.empty:
        return []
    top = rates.iloc[0]
    lines = [f"Most reliably high: {top.grp}, {top.rate:.0%} of {int(top.n):,} (95% interval "
             f"{top.ci_low:.0%} to {top.ci_high:.0%}: ranked by its lower end)."]
    naive = rates.sort_values("rate", ascending=False).iloc[0]
    if naive.grp != top.grp and naive.small_sample:
        lines.append(f"{naive.grp} has the highest raw rate ({naive.rate:.0%}) but on only "
                     f"{int(naive.n):,} {unit}, so it ranks #{int(naive['rank'])}.")
    return lines
