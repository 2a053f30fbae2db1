"""The canonical data model: every query is written against these tables only.

Every table always exists in a session's database (empty when nothing maps to it), so a
query never fails because an upload lacked a table; which fields were actually supplied is
tracked separately so a page can say "this needs field X" instead of showing zero.
"""

from __future__ import annotations

from dataclasses import dataclass

# Canonical lifecycle stages of a lead, in funnel order. Reaching stage k implies k-1.
LEAD_STAGES: tuple[str, ...] = ("lead", "mql", "sql", "opportunity", "customer", "evangelist")
# A lead stage's position (1 = lead … 6 = evangelist): the one rule every step compares by,
# stored as leads.stage_rank so queries compare positions too.
LEAD_STAGE_RANK = {stage: i for i, stage in enumerate(LEAD_STAGES, start=1)}
STAGE_AT_RANK = {i: stage for stage, i in LEAD_STAGE_RANK.items()}
LEAD_STAGE_LABELS: dict[str, str] = {
    "lead": "Lead",
    "mql": "MQL",
    "sql": "SQL",
    "opportunity": "Opportunity",
    "customer": "Customer",
    "evangelist": "Evangelist",
}
DEAL_STATUSES: tuple[str, ...] = ("open", "won", "lost")


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # text | timestamp | number | integer | boolean
    label: str
    required: bool = False
    derived: bool = False  # computed on load, never mapped from a column


def _f(name: str, kind: str, label: str, required: bool = False, derived: bool = False) -> Field:
    return Field(name, kind, label, required, derived)


TABLES: dict[str, tuple[Field, ...]] = {
    "leads": (
        _f("lead_id", "text", "Lead / contact id", required=True),
        _f("created_at", "timestamp", "Created date"),
        _f("source", "text", "Source / channel"),
        _f("origin", "text", "Origin / entry point (form, import, landing page)"),
        _f("segment", "text", "Segment"),
        _f("owner", "text", "Owner (SDR)"),
        _f("account", "text", "Account / company"),
        _f("stage", "text", "Current lifecycle stage"),
        _f("stage_rank", "integer", "Position of the stage (1 = lead … 6 = evangelist)",
           derived=True),
        _f("converted", "boolean", "Converted (yes/no)"),
        _f("deal_id", "text", "Converted deal / opportunity id (link to deals)"),
        *(_f(f"{s}_at", "timestamp", f"Became {LEAD_STAGE_LABELS[s]} date") for s in LEAD_STAGES),
    ),
    "deals": (
        _f("deal_id", "text", "Deal / opportunity id", required=True),
        _f("lead_id", "text", "Lead / contact id (link to leads)"),
        _f("account", "text", "Account / company"),
        _f("created_at", "timestamp", "Created date"),
        _f("closed_at", "timestamp", "Close date"),
        _f("won_at", "timestamp", "Won date (a date here marks the deal won)"),
        _f("lost_at", "timestamp", "Lost date (a date here marks the deal lost)"),
        _f("stage", "text", "Deal stage"),
        _f("stage_order", "integer", "Position of the stage in the pipeline", derived=True),
        _f("status", "text", "Status (open / won / lost)"),
        _f("won", "boolean", "Is won (true/false)"),
        _f("closed", "boolean", "Is closed (true/false)"),
        _f("amount", "number", "Amount"),
        _f("margin", "number", "Margin"),
        _f("owner", "text", "Owner (rep)"),
        _f("source", "text", "Lead source"),
        _f("segment", "text", "Segment"),
        _f("product", "text", "Product"),
    ),
    "stage_history": (
        _f("deal_id", "text", "Deal / opportunity id", required=True),
        _f("stage", "text", "Stage", required=True),
        _f("entered_at", "timestamp", "Entered stage at", required=True),
    ),
    "teams": (
        _f("owner", "text", "Rep / owner", required=True),
        _f("manager", "text", "Manager"),
        _f("team", "text", "Team / region"),
    ),
    "spend": (
        _f("month", "timestamp", "Month / date", required=True),
        _f("channel", "text", "Channel"),
        _f("amount", "number", "Spend", required=True),
    ),
    "customers": (
        _f("customer_id", "text", "Customer id", required=True),
        _f("lead_id", "text", "Lead / contact id"),
        _f("account", "text", "Account / company"),
        _f("segment", "text", "Segment"),
        _f("started_at", "timestamp", "Customer since"),
        _f("churned_at", "timestamp", "Churned at"),
        _f("churned", "boolean", "Churned (yes/no)"),
        _f("tenure_months", "number", "Tenure (months as a customer)"),
        _f("monthly_revenue", "number", "Monthly revenue (per customer)"),
        _f("total_revenue", "number", "Total revenue to date (per customer)"),
        _f("renewals", "integer", "Renewals"),
        _f("referrals", "integer", "Referrals"),
        _f("nps", "integer", "NPS score (0-10)"),
    ),
    "awareness": (
        _f("month", "timestamp", "Month / date", required=True),
        _f("channel", "text", "Channel"),
        _f("visits", "number", "Visits / impressions", required=True),
    ),
}

TABLE_LABELS: dict[str, str] = {
    "leads": "Leads / contacts",
    "deals": "Deals / opportunities",
    "stage_history": "Deal stage history",
    "teams": "Sales teams (rep → manager)",
    "spend": "Marketing spend",
    "customers": "Customers (retention, referrals)",
    "awareness": "Awareness (visits / impressions)",
}

SQL_TYPES: dict[str, str] = {
    "text": "varchar",
    "timestamp": "timestamp",
    "number": "double",
    "integer": "bigint",
    "boolean": "boolean",
}


def fields(table: str) -> tuple[Field, ...]:
    return TABLES[table]


def mappable_fields(table: str) -> tuple[Field, ...]:
    return tuple(f for f in TABLES[table] if not f.derived)


def field_names(table: str) -> list[str]:
    return [f.name for f in TABLES[table]]


# Fields that hold money, in the order the loaded data's currency is looked for
MONEY_FIELDS = (("deals", "amount"), ("deals", "margin"), ("customers", "monthly_revenue"),
                ("customers", "total_revenue"), ("spend", "amount"))
