"""The loyalty stage: retention and churn, how long customers stay, and what a customer is
worth over that time (LTV), from a customers file with dates or with a churn flag and
tenure in months (a subscription business's retention export has no dates at all)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from handoff import close_rates
from handoff.db import Database, query
from handoff.filters import Filters
from handoff.kpis import MAX_LIFETIME_MONTHS


@dataclass(frozen=True)
class Loyalty:
    customers: int
    status_known: int  # customers whose churn is known (a churn flag or a start date)
    churned: int
    retention: float | None  # share of those still customers
    churn_rate: float | None
    median_tenure_months: float | None
    monthly_churn: float | None  # churns per customer-month
    lifetime_months: float | None  # expected: 1 / monthly churn, at most 60
    monthly_value: float | None  # what a customer pays a month
    value_basis: str  # where the monthly value comes from, in words
    ltv: float | None


def expected_lifetime(churned: float, customer_months: float) -> float | None:
    """Months a customer is expected to stay: 1 ÷ churns per customer-month, at most 60."""
    if not customer_months:
        return None
    monthly = churned / customer_months
    return min(1 / monthly, MAX_LIFETIME_MONTHS) if monthly else MAX_LIFETIME_MONTHS


def summary(db: Database, f: Filters | None = None) -> Loyalty:
    """Loyalty over every customer (of the chosen segments): the customers file holds no
    period to choose when it has no dates, so this is always the whole history."""
    row = query(db, "loyalty_summary", segments=list(f.segments) if f else []).iloc[0]
    known, churned = int(row.status_known), int(row.churned)
    months = float(row.customer_months) if pd.notna(row.customer_months) else 0.0
    lifetime = expected_lifetime(churned, months) if known else None
    value, basis = None, ""
    if pd.notna(row.avg_monthly_revenue):
        value, basis = float(row.avg_monthly_revenue), "average monthly revenue per customer"
    elif pd.notna(row.total_revenue) and row.months_with_revenue:
        value = float(row.total_revenue) / float(row.months_with_revenue)
        basis = "total revenue per customer-month"
    return Loyalty(
        customers=int(row.customers), status_known=known, churned=churned,
        retention=1 - churned / known if known else None,
        churn_rate=churned / known if known else None,
        median_tenure_months=float(row.median_tenure_months)
        if pd.notna(row.median_tenure_months) else None,
        monthly_churn=churned / months if months else None, lifetime_months=lifetime,
        monthly_value=value, value_basis=basis,
        ltv=value * lifetime if value is not None and lifetime is not None else None)


def tenure_distribution(db: Database, f: Filters | None = None) -> pd.DataFrame:
    """Customers per band of months as a customer (bands of 1, 3 or 12 months, by how long
    the longest stayed), with how many of them churned."""
    segments = list(f.segments) if f else []
    row = query(db, "loyalty_summary", segments=segments).iloc[0]
    if not row.with_tenure:
        return pd.DataFrame(columns=["label", "months_from", "months_to", "customers",
                                     "retained", "churned", "churn_rate"])
    longest = float(row.longest_months)
    width = 1 if longest < 12 else 3 if longest < 36 else 12
    bands = query(db, "tenure_distribution", width=width, segments=segments)
    bands["months_to"] = bands["months_from"] + width
    bands["label"] = [f"{a}–{b - 1}" if width > 1 else f"{a}" for a, b in
                      zip(bands.months_from, bands.months_to, strict=True)]
    bands["retained"] = bands["customers"] - bands["churned"]
    bands["churn_rate"] = bands["churned"] / bands["customers"]
    return bands[["label", "months_from", "months_to", "customers", "retained", "churned",
                  "churn_rate"]]


def retention_by(db: Database, f: Filters | None = None, by: str = "segment") -> pd.DataFrame:
    """Retention per segment with its Wilson 95% interval, ranked as close rates are
    (`won` = still customers, `n` = customers)."""
    if by not in ("segment", "none"):
        raise ValueError(f"unknown grouping {by!r}")
    rows = query(db, "retention_by_group", by=by, segments=list(f.segments) if f else [])
    return close_rates.ranked_rates(rows)
