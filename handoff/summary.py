"""What is loaded: the headline totals (Home, the sidebar, the Funnel's notes) and how many
deals can be followed back to their lead (queries/home_summary.sql, lead_deal_links.sql)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from handoff.db import Database, query


@dataclass(frozen=True)
class Summary:
    """What is loaded and the headline numbers, for the Home page."""

    leads: int
    mqls: int
    sqls: int
    customers: int
    deals: int
    won: int
    lost: int
    open_deals: int
    revenue_won: float
    margin_won: float | None
    won_without_margin: int
    win_rate: float | None
    lead_to_customer: float | None
    first_date: pd.Timestamp | None
    last_date: pd.Timestamp | None

    @property
    def complete_through(self) -> pd.Timestamp | None:
        """The day periods are complete through: the data's last date, or today when the
        data runs past it (a date in 2034 does not make 2034 Q3 a complete quarter)."""
        if self.last_date is None:
            return None
        return min(self.last_date, pd.Timestamp(dt.date.today()))


def home_summary(db: Database) -> Summary:
    row = query(db, "home_summary").iloc[0]
    firsts = [row.first_lead_at, row.first_deal_at]
    lasts = [row.last_lead_at, row.last_deal_at]
    return Summary(
        leads=int(row.leads), mqls=int(row.mqls), sqls=int(row.sqls),
        customers=int(row.customers), deals=int(row.deals), won=int(row.won),
        lost=int(row.lost), open_deals=int(row.open_deals),
        revenue_won=float(row.revenue_won),
        margin_won=None if pd.isna(row.margin_won) else float(row.margin_won),
        won_without_margin=int(row.won_without_margin),
        win_rate=None if pd.isna(row.win_rate) else float(row.win_rate),
        lead_to_customer=None if pd.isna(row.lead_to_customer) else float(row.lead_to_customer),
        first_date=min((d for d in firsts if pd.notna(d)), default=None),
        last_date=max((d for d in lasts if pd.notna(d)), default=None),
    )


@dataclass(frozen=True)
class Links:
    """How many deals can be followed back to the lead they came from."""

    deals: int
    with_lead_id: int
    linked: int


def link_hint(links: Links, lead_id_mapped: bool) -> str:
    """Why some deals are not linked to a lead, as it is (not a guess)."""
    if links.linked == links.deals:
        return ""
    if not links.with_lead_id:
        return (" The deals file's lead id column is mapped, but no deal has a value in it."
                if lead_id_mapped else
                " To link them, map the deals file's lead or contact id column.")
    parts = []
    if links.with_lead_id > links.linked:
        parts.append(f"{links.with_lead_id - links.linked:,} carry a lead id that is not "
                     "among the loaded leads (a shorter leads export?)")
    if links.deals > links.with_lead_id:
        parts.append(f"{links.deals - links.with_lead_id:,} have no lead id")
    return " Of the others, " + " and ".join(parts) + "."


def lead_deal_links(db: Database) -> Links:
    def count() -> Links:
        row = query(db, "lead_deal_links").iloc[0]
        return Links(int(row.deals), int(row.with_lead_id), int(row.linked))

    return db.fact("lead_deal_links", count)
