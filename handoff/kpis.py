"""One definition per metric: every KPI's name, formula, the columns of
queries/kpi_periods.sql it reads, its owner and supporting team, format, direction, the data
it needs, its funnel stage and what-if objective, and the words that define it. Every page
reads KPIs from here (Objectives, Home's quarter, the reverse funnel, the What-if baseline).

Where two pages must show different numbers under one name (MQL → SQL is counted three
ways), the definitions are here too, each with the name that says on screen which it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from handoff.db import Database
from handoff.schema import TABLE_LABELS, TABLES

# The SLA the Objectives page proposes for accepting an MQL: one week (168 hours), a
# working week plus the weekend, so an MQL that arrives on a Friday can be accepted the
# Friday after. Pages without an SLA control (Home, What-if) pass it too: the SLA changes
# only kpi_periods.sql's accepted_within_sla, which neither of them reads.
DEFAULT_SLA_HOURS = 168.0
MAX_LIFETIME_MONTHS = 60.0  # LTV horizon: expected lifetime is capped at five years

# The funnel stage each KPI belongs to, as the teams speak of them; "shared" holds the
# revenue team's goals and the hand-off between the teams.
STAGES = {"awareness": "Awareness", "consideration": "Consideration", "sale": "Sale",
          "loyalty": "Loyalty", "advocacy": "Advocacy", "shared": "Shared (revenue team)"}


@dataclass(frozen=True)
class Lifetime:
    """Figures over the whole history (queries/kpi_lifetime.sql, via objectives.lifetime)
    that some formulas read instead of a per-period measure."""

    ltv: float | None
    tenure_months: float | None
    promoters: float | None
    open_pipeline: float
    margin_based: bool
    active_customers: float  # customers in the customers file not churned by then
    retention: float | None = None  # whole history: share of customers not churned
    monthly_value: float | None = None  # revenue (or margin) per customer-month
    lifetime_months: float | None = None  # expected lifetime used for LTV
    monthly_churn: float | None = None


@dataclass(frozen=True)
class Measures:
    """What a formula reads: kpi_periods.sql's rows (index: period), the lifetime figures,
    the targets, and the KPIs computed before it (in KPIS order)."""

    p: pd.DataFrame
    life: Lifetime
    targets: Mapping[str, float]
    done: Mapping[str, pd.Series]


Formula = Callable[[Measures], "pd.Series | float"]


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str  # the name on screen
    panel: str  # Marketing | Sales | Shared
    owner: str
    supporter: str
    fmt: str  # count | pct | money | days | hours | ratio | months
    better: str  # higher | lower
    needs: tuple[tuple[str, str], ...]  # (table, field); field "" = any rows
    definition: str
    stage: str  # a key of STAGES
    objective: str | None  # the what-if objective whose split moves its owner; None: fixed
    columns: tuple[str, ...]  # the kpi_periods.sql columns the formula reads
    formula: Formula
    undated_needs: tuple[tuple[str, str], ...] = ()  # enough too, over the whole history
    former_labels: tuple[str, ...] = ()  # earlier names, still read from a targets file


def _ratio(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a / b.where(b > 0)).astype("float64")


def _column(name: str) -> Formula:
    return lambda m: m.p[name].astype("float64")


def _share(numerator: str, denominator: str) -> Formula:
    return lambda m: _ratio(m.p[numerator], m.p[denominator])


def _lifetime(value: float | None) -> float:
    return value if value is not None else np.nan


def _retention(m: Measures) -> pd.Series | float:
    """Per period from churn dates; without them, the whole history's retention."""
    series = 1 - _ratio(m.p.churned, m.p.active_at_start)
    if series.isna().all() and m.life.retention is not None:
        return m.life.retention
    return series


def _coverage(m: Measures) -> float:
    target = m.targets.get("revenue_target")
    return m.life.open_pipeline / target if target else np.nan


def _ltv_cac(m: Measures) -> pd.Series:
    cac = m.done["cac"]
    return m.done["ltv"] / cac.where(cac > 0)


MARKETING, SALES = ("Marketing", "Sales"), ("Sales", "Marketing")
MQL_DATES = (("leads", "mql_at"), ("leads", "sql_at"))

KPIS: tuple[Kpi, ...] = (
    Kpi("visits", "Awareness (visits)", "Marketing", *MARKETING, "count", "higher",
        (("awareness", ""),), "Website visits or impressions in the period.",
        "awareness", "awareness", ("visits",), _column("visits")),
    Kpi("leads", "Leads", "Marketing", *MARKETING, "count", "higher",
        (("leads", "created_at"),), "Leads created in the period.",
        "consideration", "consideration", ("leads",), _column("leads")),
    Kpi("mqls", "MQLs", "Marketing", *MARKETING, "count", "higher",
        (("leads", "mql_at"),), "Leads that became marketing-qualified in the period.",
        "consideration", "consideration", ("mqls",), _column("mqls")),
    Kpi("acceptance", "MQL → SQL acceptance (MQLs of the period)", "Marketing", *MARKETING,
        "pct", "higher", MQL_DATES,
        "Share of the period's MQLs that sales accepted (became SQL), so far.",
        "consideration", "consideration", ("mqls_accepted", "mqls"),
        _share("mqls_accepted", "mqls"), former_labels=("MQL → SQL acceptance",)),
    Kpi("mql_to_won", "MQL → won", "Marketing", *MARKETING, "pct", "higher",
        (("leads", "mql_at"),), "Share of the period's MQLs that became customers, so far.",
        "sale", None, ("mqls_won", "mqls"), _share("mqls_won", "mqls")),
    Kpi("marketing_pipeline", "Marketing-sourced pipeline", "Marketing", *MARKETING, "money",
        "higher", (("deals", "amount"), ("deals", "source"), ("deals", "created_at")),
        "Amount of deals created in the period whose source is marketing's.",
        "consideration", None, ("marketing_pipeline",), _column("marketing_pipeline")),
    Kpi("marketing_revenue", "Marketing-sourced revenue", "Marketing", *MARKETING, "money",
        "higher", (("deals", "amount"), ("deals", "source"), ("deals", "closed_at")),
        "Revenue won in the period from marketing-sourced deals.",
        "sale", None, ("marketing_revenue",), _column("marketing_revenue")),
    Kpi("cac", "CAC", "Marketing", *MARKETING, "money", "lower",
        (("spend", ""), ("leads", "customer_at")),
        "Marketing spend in the period ÷ new customers in the period.",
        "shared", None, ("spend", "new_customers"), _share("spend", "new_customers")),
    Kpi("retention", "Customer retention", "Marketing", *MARKETING, "pct", "higher",
        (("customers", "started_at"),),
        "Share of customers active at the start of the period still active at its end.",
        "loyalty", "loyalty", ("churned", "active_at_start"), _retention,
        undated_needs=(("customers", "churned"),)),
    Kpi("evangelists", "New evangelists", "Marketing", *MARKETING, "count", "higher",
        (("leads", "evangelist_at"),), "Customers who became evangelists in the period.",
        "advocacy", "advocacy", ("evangelists",), _column("evangelists")),
    Kpi("referral_leads", "Referral leads", "Marketing", *MARKETING, "count", "higher",
        (("leads", "source"),), "Leads created in the period from referrals.",
        "advocacy", "advocacy", ("referral_leads",), _column("referral_leads")),
    Kpi("promoters", "Promoters (NPS 9–10)", "Marketing", *MARKETING, "pct", "higher",
        (("customers", "nps"),), "Share of surveyed customers scoring 9 or 10 "
        "(whole history: survey dates are not in the data).",
        "advocacy", "advocacy", (), lambda m: _lifetime(m.life.promoters)),
    Kpi("revenue_won", "Revenue won", "Sales", *SALES, "money", "higher",
        (("deals", "amount"), ("deals", "closed_at")), "Amount of deals won in the period.",
        "sale", "sale", ("revenue_won",), _column("revenue_won")),
    Kpi("margin_won", "Margin won", "Sales", *SALES, "money", "higher",
        (("deals", "margin"), ("deals", "closed_at")),
        "Margin of deals won in the period; won deals without a margin are flagged.",
        "sale", "margin", ("margin_won",), _column("margin_won")),
    Kpi("win_rate", "Win rate", "Sales", *SALES, "pct", "higher",
        (("deals", "closed_at"),), "Won ÷ (won + lost), deals closed in the period.",
        "sale", "sale", ("won", "lost"), lambda m: _ratio(m.p.won, m.p.won + m.p.lost)),
    Kpi("avg_deal", "Average deal size", "Sales", *SALES, "money", "higher",
        (("deals", "amount"), ("deals", "closed_at")), "Revenue won ÷ deals won.",
        "sale", "sale", ("revenue_won", "won"), _share("revenue_won", "won")),
    Kpi("cycle_days", "Sales cycle (median days)", "Sales", *SALES, "days", "lower",
        (("deals", "created_at"), ("deals", "closed_at")),
        "Median days from created to won, deals won in the period.",
        "sale", "sale", ("cycle_days",), _column("cycle_days")),
    Kpi("coverage", "Pipeline coverage", "Sales", *SALES, "ratio", "higher",
        (("deals", "amount"),), "Open pipeline today ÷ the revenue target of the period.",
        "sale", "sale", (), _coverage),
    Kpi("revenue_target", "Revenue against target", "Shared", *SALES, "money", "higher",
        (("deals", "amount"), ("deals", "closed_at")),
        "Revenue won in the period, measured against the shared revenue target.",
        "shared", "sale", ("revenue_won",), _column("revenue_won")),
    Kpi("ltv", "LTV", "Shared", *SALES, "money", "higher",
        (("customers", "started_at"), ("deals", "amount")),
        "Revenue (margin when known) per customer-month × expected lifetime (1 ÷ monthly "
        "churn, at most 60 months), over all history.",
        "shared", None, (), lambda m: _lifetime(m.life.ltv),
        undated_needs=(("customers", "tenure_months"), ("customers", "monthly_revenue"))),
    Kpi("ltv_cac", "LTV : CAC", "Shared", *SALES, "ratio", "higher",
        (("customers", "started_at"), ("deals", "amount"), ("spend", ""),
         ("leads", "customer_at")), "LTV ÷ CAC of the period.",
        "shared", None, (), _ltv_cac),
    Kpi("tenure", "Customer tenure (median months)", "Shared", *MARKETING, "months", "higher",
        (("customers", "started_at"),), "Median months customers have stayed.",
        "loyalty", "loyalty", (), lambda m: _lifetime(m.life.tenure_months),
        undated_needs=(("customers", "tenure_months"),)),
    Kpi("speed_to_lead", "Speed to lead (median hours)", "Shared", *SALES, "hours", "lower",
        MQL_DATES, "Median hours from MQL to sales acceptance (SQL), MQLs of the period.",
        "shared", None, ("speed_to_lead_hours",), _column("speed_to_lead_hours")),
    Kpi("sla", "MQLs accepted within SLA", "Shared", *SALES, "pct", "higher", MQL_DATES,
        "Share of the period's MQLs accepted within the SLA hours you set.",
        "shared", None, ("accepted_within_sla", "mqls"), _share("accepted_within_sla", "mqls")),
)
KPI_BY_KEY = {k.key: k for k in KPIS}
# A targets file names KPIs by label; a label a KPI had before still finds it.
KPI_BY_LABEL = {name: k for k in KPIS for name in (k.label, *k.former_labels)}

# kpi_periods.sql columns no KPI formula reads, and who reads them (a test checks both).
PERIOD_COLUMNS_ELSEWHERE = {
    "period": ("objectives", "the period each row measures (the index of every KPI)"),
    "sqls": ("whatif", "the What-if baseline's MQL → SQL and SQL → opportunity"),
    "deals_created": ("whatif", "the What-if baseline's SQL → opportunity"),
    "won_without_margin": ("objectives_ui", "the note on Margin won"),
}

# The KPIs that score each what-if objective: the first the data supports is used.
OBJECTIVE_KPIS = {"awareness": ("visits", "leads"), "consideration": ("mqls", "leads"),
                  "sale": ("revenue_won",), "margin": ("margin_won",),
                  "loyalty": ("retention",), "advocacy": ("evangelists", "referral_leads")}


@dataclass(frozen=True)
class Rate:
    """A conversion rate that pages count differently: its name on screen says which."""

    name: str  # the name on screen; "{over}" stands for the span it is measured over
    definition: str
    computed_by: str  # where to read it: the function, then its query

    def over(self, span: str) -> str:
        """The name for a rate measured over a span ("the period", "2025 Q4 – 2026 Q3")."""
        return self.name.format(over=span)

    @property
    def label(self) -> str:
        return self.over("the period")


MQL_TO_SQL_COHORT = Rate(
    "MQL → SQL (cohort: leads created in {over})",
    "of the leads created in the period that reached MQL, the share that reached SQL so "
    "far, whenever that happened",
    "funnel.lead_funnel ← queries/funnel_leads_cohort.sql (staging/cohort_leads.sql)")
MQL_TO_SQL_IN_PERIOD = Rate(
    "MQL → SQL (in period: SQLs ÷ MQLs dated in {over})",
    "SQLs dated in the period ÷ MQLs dated in it, which need not be the same leads",
    "funnel.lead_funnel ← queries/funnel_leads_in_period.sql; the What-if baseline: "
    "whatif.baseline_from ← queries/kpi_periods.sql (sqls ÷ mqls)")
MQL_TO_SQL_ACCEPTANCE = Rate(
    KPI_BY_KEY["acceptance"].label, KPI_BY_KEY["acceptance"].definition,
    "objectives.values ← kpis.KPIS['acceptance'] ← queries/kpi_periods.sql "
    "(mqls_accepted ÷ mqls)")
MQL_TO_SQL = {"cohort": MQL_TO_SQL_COHORT, "in_period": MQL_TO_SQL_IN_PERIOD,
              "acceptance": MQL_TO_SQL_ACCEPTANCE}


def mql_to_sql_note(view: str) -> str:
    """What the Funnel's step to SQL counts in this view (cohort or in_period), and which
    other page counts it how."""
    this = MQL_TO_SQL[view]
    text = f"From MQL to SQL this funnel shows {this.label}: {this.definition}."
    if view == "in_period":
        text += " The What-if baseline counts it this way too."
    else:
        text += f" The What-if baseline counts {MQL_TO_SQL_IN_PERIOD.label}."
    return text + f" The Objectives page shows {MQL_TO_SQL_ACCEPTANCE.label}."


# No lifetime figures: for a KPI read from kpi_periods.sql alone (Home's last quarter).
NO_LIFETIME = Lifetime(None, None, None, 0.0, False, 0.0)


def period_series(kpi: Kpi, p: pd.DataFrame) -> pd.Series:
    """A KPI per row of kpi_periods.sql by its formula, without lifetime figures or targets
    (for the KPIs whose formula reads only its columns)."""
    value = kpi.formula(Measures(p, NO_LIFETIME, {}, {}))
    return value if isinstance(value, pd.Series) else pd.Series(value, index=p.index)


def owners(kpi: Kpi, shares: dict[str, float] | None) -> tuple[str, str]:
    """(owner, supporting team) of a KPI under an accountability split: the team holding
    more than half of its objective owns it; at half each, both do."""
    objective = kpi.objective
    if shares is None or objective is None or objective not in shares:
        return kpi.owner, kpi.supporter
    share = shares[objective]
    if share > 0.5:
        return "Marketing", "Sales"
    if share < 0.5:
        return "Sales", "Marketing"
    return "Joint", "—"


def missing(db: Database, kpi: Kpi) -> str | None:
    """What the data lacks for this KPI, in words, or None when it is supported."""
    undated = kpi.undated_needs
    if undated and all(db.has(t, n) for t, n in undated):
        return None
    for table, field_name in kpi.needs:
        if not db.row_counts.get(table):
            return f"needs a {TABLE_LABELS[table].lower()} file"
        if field_name and not db.has(table, field_name):
            label = next(f.label for f in TABLES[table] if f.name == field_name)
            if field_name in db.fields_mapped.get(table, frozenset()):
                return f"the '{label}' column is mapped, but {_why_empty(table, field_name)}"
            return f"needs the '{label}' column in the {TABLE_LABELS[table].lower()} file"
    return None


def _why_empty(table: str, field_name: str) -> str:
    if (table, field_name) == ("deals", "closed_at"):
        return "no deal has closed yet: every deal is open, and an open deal's close date " \
               "is only expected"
    return "none of its values could be read"
