"""The accountability what-if: pure functions, no Streamlit, no database.

Two layers (see DESIGN.md, "The what-if model"):
1. Scorecards: each objective has a share s that marketing is accountable for (sales holds
   1 - s); each team's score is its share-weighted attainment against the targets.
2. A projection of behaviour: each team spreads its effort over top-of-funnel, conversion
   and post-sale work in proportion to its shares; stage rates respond to effort with
   diminishing returns (rate = base × (effort / base effort) ** elasticity), top-of-funnel
   effects build and decay (adstock), a volume push lowers lead quality, and advocates bring
   referral leads. At the baseline split every ratio is 1, so the projection reproduces the
   baseline exactly. It is an illustrative model, not a forecast.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd

from handoff import untrusted

OBJECTIVES = ("awareness", "consideration", "sale", "margin", "loyalty", "advocacy")
OBJECTIVE_LABELS = {"awareness": "Awareness", "consideration": "Consideration",
                    "sale": "Sale (revenue)", "margin": "Margin", "loyalty": "Loyalty",
                    "advocacy": "Advocacy"}
BUCKETS = {"top": ("awareness", "consideration"), "conversion": ("sale", "margin"),
           "post": ("loyalty", "advocacy")}
POSITIONS = {0.0: "Marketing tees up, sales closes", 0.5: "Joint accountability",
             1.0: "Marketing owns revenue"}
# Today's split as most companies run it: marketing owns the top, sales owns the sale.
BASELINE_SHARES = {"awareness": 1.0, "consideration": 0.8, "sale": 0.0, "margin": 0.0,
                   "loyalty": 0.6, "advocacy": 0.8}


@dataclass(frozen=True)
class Assumption:
    key: str
    label: str
    default: float
    low: float
    high: float
    reason: str


ASSUMPTIONS: tuple[Assumption, ...] = (
    Assumption("floor", "Margin discipline left when sales is not accountable", 0.10, 0.01,
               1.0, "Even unmeasured on margin, sales keeps some pricing discipline."),
    Assumption("e_awareness", "Elasticity: leads to top-of-funnel effort", 0.5, 0.0, 2.0,
               "Diminishing returns: doubling awareness work brings about 40% more leads."),
    Assumption("adstock", "Carry-over of top-of-funnel effects per quarter", 0.6, 0.0, 0.95,
               "Brand and content work build and fade over two to three quarters."),
    Assumption("e_push", "Lead volume per unit of marketing conversion push", 0.3, 0.0, 2.0,
               "Measured on revenue, marketing pushes more late-stage leads through."),
    Assumption("quality", "Lead-quality penalty of a volume push", 0.5, 0.0, 3.0,
               "Pushed volume is less qualified: the MQL → SQL rate falls as push rises."),
    Assumption("e_support", "Elasticity: MQL → SQL rate to conversion effort", 0.2, 0.0,
               2.0, "More joint work on conversion (enablement, follow-up) lifts MQL → SQL."),
    Assumption("e_close", "Elasticity: win rate to sales closing effort", 0.4, 0.0, 2.0,
               "Sales attention on deals moves the win rate, with diminishing returns."),
    Assumption("e_margin", "Elasticity: margin to sales' margin accountability", 0.3, 0.0,
               2.0, "A team not measured on margin discounts more."),
    Assumption("e_loyalty", "Elasticity: churn to post-sale effort", 0.5, 0.0, 2.0,
               "Onboarding and loyalty programmes lower churn, with diminishing returns."),
    Assumption("e_advocacy", "Elasticity: new advocates to post-sale effort", 0.5, 0.0, 2.0,
               "Advocacy programmes turn satisfied customers into promoters."),
    Assumption("referral_rate", "Referral leads per advocate per quarter (× measured)", 1.0,
               0.0, 5.0, "Advocates bring referral leads a quarter later; 1 = as measured."),
)
ASSUMPTION_BY_KEY = {a.key: a for a in ASSUMPTIONS}


def default_assumptions() -> dict[str, float]:
    return {a.key: a.default for a in ASSUMPTIONS}


@dataclass(frozen=True)
class Baseline:
    """Per-quarter volumes and rates measured from the loaded data."""

    leads: float  # non-referral leads per quarter
    lead_to_mql: float
    mql_to_sql: float
    sql_to_opp: float
    opp_to_won: float
    deal_size: float
    margin_ratio: float | None
    churn: float  # share of customers lost per quarter
    advocacy: float  # new advocates per customer per quarter
    referrals_per_advocate: float
    customers: float
    advocates: float
    spend: float | None
    measured: str  # the period the figures come from, shown to the user


@dataclass(frozen=True)
class Scenario:
    name: str = "Scenario"
    shares: dict[str, float] = field(default_factory=lambda: dict(BASELINE_SHARES))
    assumptions: dict[str, float] = field(default_factory=default_assumptions)
    horizon: int = 8

    def with_sale_share(self, s: float) -> Scenario:
        """The main slider: marketing's share of the sale and margin objectives."""
        return replace(self, shares={**self.shares, "sale": s, "margin": s})

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    def to_data(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, text: str | bytes) -> Scenario:
        """A scenario from JSON text, checked (see `parse_json` and `scenario_from_data`)."""
        return scenario_from_data(parse_json(text))


# What an imported scenario or a link may hold: its size, nesting and every value are
# checked before anything is applied, and a problem is named (key and allowed range).
MAX_SCENARIO_BYTES = 64_000
MAX_DEPTH = 6
MAX_NAME = 60
SCENARIO_KEYS = ("name", "shares", "assumptions", "horizon")


def parse_json(text: str | bytes, limit: int = MAX_SCENARIO_BYTES) -> object:
    """A scenario's JSON, parsed only after its size and nesting are checked."""
    return untrusted.parse_json(text, limit, MAX_DEPTH, "a scenario")


def scenario_from_data(data: object, where: str = "") -> Scenario:
    """A scenario from parsed JSON; every key and value checked, the first problem named."""
    if not isinstance(data, dict):
        raise ValueError(f"{where or 'a scenario'} must be a JSON object with "
                         f"{', '.join(SCENARIO_KEYS)}, not {_kind(data)}")
    unknown = [str(k)[:40] for k in data if k not in SCENARIO_KEYS]
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(unknown[:5])} in {where or 'the scenario'}"
                         f" (a scenario has {', '.join(SCENARIO_KEYS)})")
    name = data.get("name", "Scenario")
    if not isinstance(name, str):
        raise ValueError(f"{where}name must be text, not {_kind(name)}")
    name = " ".join("".join(c for c in name if c.isprintable()).split())[:MAX_NAME]
    shares = _numbers(data.get("shares", {}), f"{where}shares",
                      {o: (0.0, 1.0) for o in OBJECTIVES}, BASELINE_SHARES)
    bounds = {a.key: (a.low, a.high) for a in ASSUMPTIONS}
    assumptions = _numbers(data.get("assumptions", {}), f"{where}assumptions", bounds,
                           default_assumptions())
    horizon = data.get("horizon", 8)
    if isinstance(horizon, bool) or not isinstance(horizon, int | float) \
            or not float(horizon).is_integer() or not 1 <= horizon <= 20:
        raise ValueError(f"{where}horizon must be a whole number of quarters from 1 to 20, "
                         f"not {_shown(horizon)}")
    return Scenario(name or "Scenario", shares, assumptions, int(horizon))


def _numbers(given: object, where: str, bounds: dict[str, tuple[float, float]],
             defaults: dict[str, float]) -> dict[str, float]:
    if not isinstance(given, dict):
        raise ValueError(f"{where} must be an object of numbers, not {_kind(given)}")
    unknown = [str(k)[:40] for k in given if k not in bounds]
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(unknown[:5])} in {where} (known: "
                         f"{', '.join(bounds)})")
    out = dict(defaults)
    for key, value in given.items():
        low, high = bounds[key]
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not math.isfinite(value) or not low <= value <= high:
            raise ValueError(f"{where}.{key} must be a number from {low:g} to {high:g}, not "
                             f"{_shown(value)}")
        out[key] = float(value)
    return out


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false",
            type(None): "null"}.get(type(value), "a number")


def _shown(value: object) -> str:
    text = json.dumps(value) if not isinstance(value, float) or math.isfinite(value) \
        else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _clip(value: float, low: float, high: float) -> float:
    return min(max(float(value), low), high)


def preset(position: float) -> Scenario:
    return Scenario(POSITIONS[position]).with_sale_share(position)


def effort_mix(shares: dict[str, float], team: str) -> dict[str, float]:
    """How a team spreads its effort over top, conversion and post-sale work (sums to 1)."""
    weight = {o: (shares[o] if team == "marketing" else 1 - shares[o]) for o in OBJECTIVES}
    total = sum(weight.values())
    if total <= 0:
        return {b: 1 / 3 for b in BUCKETS}
    return {b: sum(weight[o] for o in objs) / total for b, objs in BUCKETS.items()}


def company_effort(shares: dict[str, float]) -> dict[str, float]:
    """Both teams' effort per kind of work (each team has one unit; the total is 2)."""
    mk, sl = effort_mix(shares, "marketing"), effort_mix(shares, "sales")
    return {b: mk[b] + sl[b] for b in BUCKETS}


def project(baseline: Baseline, scenario: Scenario,
            base_shares: dict[str, float] | None = None) -> pd.DataFrame:
    """Volumes per quarter over the horizon under a scenario (quarter 1 is the next one)."""
    return pd.DataFrame(_quarters(baseline, scenario, base_shares))


def _quarters(baseline: Baseline, scenario: Scenario,
              base_shares: dict[str, float] | None = None) -> list[dict[str, float | None]]:
    """The projection's rows, one per quarter. The sensitivity runs 23 projections per
    slider move and needs only their revenue, so it skips building frames.

    Stage rates respond to the company's effort on each kind of work relative to the
    baseline split; marketing's extra conversion work also pushes volume (which lowers lead
    quality); margin follows how much sales is still accountable for it.
    """
    a = scenario.assumptions
    base = base_shares or BASELINE_SHARES
    effort, effort0 = company_effort(scenario.shares), company_effort(base)
    top, close, post = (effort[b] / effort0[b] if effort0[b] else 1.0
                        for b in ("top", "conversion", "post"))
    push_share = (effort_mix(scenario.shares, "marketing")["conversion"]
                  - effort_mix(base, "marketing")["conversion"])
    volume = max(1 + a["e_push"] * push_share, 0.05)
    floor = a["floor"]
    margin_focus = (floor + 1 - scenario.shares["margin"]) / (floor + 1 - base["margin"])

    rows = []
    customers, advocates, carry = baseline.customers, baseline.advocates, 1.0
    target_top = top ** a["e_awareness"]
    for quarter in range(1, scenario.horizon + 1):
        carry = a["adstock"] * carry + (1 - a["adstock"]) * target_top
        referral = baseline.referrals_per_advocate * a["referral_rate"] * advocates
        leads = baseline.leads * carry * volume + referral
        mqls = leads * _cap(baseline.lead_to_mql)
        sqls = mqls * _cap(baseline.mql_to_sql * volume ** -a["quality"]
                           * close ** a["e_support"])
        opps = sqls * _cap(baseline.sql_to_opp)
        won = opps * _cap(baseline.opp_to_won * close ** a["e_close"])
        revenue = won * baseline.deal_size
        margin = None if baseline.margin_ratio is None else \
            revenue * _cap(baseline.margin_ratio * margin_focus ** a["e_margin"], 1.0)
        churn = _cap(baseline.churn * post ** -a["e_loyalty"])
        new_advocates = customers * baseline.advocacy * post ** a["e_advocacy"]
        customers = customers * (1 - churn) + won
        advocates = advocates + new_advocates
        cac = baseline.spend / won if baseline.spend and won else None
        unit = baseline.deal_size * (margin / revenue if margin and revenue else 1.0)
        ltv = unit / max(churn, 1 / 20)  # at most 20 quarters (five years) of lifetime
        rows.append({"quarter": quarter, "leads": leads, "referral_leads": referral,
                     "mqls": mqls, "sqls": sqls, "opportunities": opps, "won": won,
                     "revenue": revenue, "margin": margin, "customers": customers,
                     "advocates": advocates, "churn": churn, "cac": cac, "ltv": ltv})
    return rows


def _cap(rate: float, high: float = 0.99) -> float:
    return float(min(max(rate, 0.0), high))


def compare(baseline: Baseline, scenario: Scenario,
            base_shares: dict[str, float] | None = None) -> pd.DataFrame:
    """Scenario and baseline projections side by side, long format (for charts/tables)."""
    base_run = project(baseline, replace(scenario, shares=dict(base_shares or BASELINE_SHARES)),
                       base_shares)
    scen_run = project(baseline, scenario, base_shares)
    return pd.concat([base_run.assign(run="Baseline"), scen_run.assign(run=scenario.name)],
                     ignore_index=True)


def scorecards(shares: dict[str, float], attainment: dict[str, float | None]
               ) -> pd.DataFrame:
    """Each team's share-weighted attainment, and the objectives each team now owns."""
    rows = []
    for team in ("Marketing", "Sales"):
        weights = {o: (shares[o] if team == "Marketing" else 1 - shares[o]) for o in OBJECTIVES
                   if attainment.get(o) is not None}
        total = sum(weights.values())
        score = sum(w * min(attainment[o], 2.0) for o, w in weights.items()) / total \
            if total else None
        owns = [OBJECTIVE_LABELS[o] for o in OBJECTIVES
                if (shares[o] > 0.5 if team == "Marketing" else shares[o] < 0.5)]
        joint = [OBJECTIVE_LABELS[o] for o in OBJECTIVES if shares[o] == 0.5]
        rows.append({"team": team, "score": score, "owns": ", ".join(owns) or "—",
                     "joint": ", ".join(joint) or "—"})
    return pd.DataFrame(rows)


def sensitivity(baseline: Baseline, scenario: Scenario,
                base_shares: dict[str, float] | None = None, swing: float = 0.5
                ) -> pd.DataFrame:
    """Projected revenue over the horizon with each assumption 50% lower and higher."""
    def revenue(s: Scenario) -> float:
        return math.fsum(r["revenue"] for r in _quarters(baseline, s, base_shares))

    centre = revenue(scenario)
    rows = []
    for a in ASSUMPTIONS:
        values = {}
        for side, factor in (("low", 1 - swing), ("high", 1 + swing)):
            value = _clip(scenario.assumptions[a.key] * factor, a.low, a.high)
            varied = replace(scenario, assumptions={**scenario.assumptions, a.key: value})
            values[side] = revenue(varied) - centre
        rows.append({"assumption": a.label, "low": values["low"], "high": values["high"],
                     "range": abs(values["high"] - values["low"])})
    return pd.DataFrame(rows).sort_values("range", ascending=False).reset_index(drop=True)


def baseline_from(periods: pd.DataFrame, lifetime_customers: float, advocates: float,
                  last_complete: int) -> Baseline | None:
    """Measure the baseline on up to four complete quarters ending at `last_complete`."""
    window = periods.iloc[max(0, last_complete - 3): last_complete + 1]
    if window.empty or window.leads.sum() == 0:
        return None

    def rate(a: str, b: str) -> float:
        den = float(window[b].sum())
        return float(window[a].sum()) / den if den else 0.0

    quarters = len(window)
    won, lost = float(window.won.sum()), float(window.lost.sum())
    margin = window.margin_won.sum() if window.margin_won.notna().any() else None
    active = float(window.active_at_start.mean()) or lifetime_customers
    referral = float(window.referral_leads.sum()) / quarters
    first = window.period.iloc[0]
    last = window.period.iloc[-1]
    return Baseline(
        leads=float((window.leads - window.referral_leads).sum()) / quarters,
        lead_to_mql=rate("mqls", "leads"), mql_to_sql=rate("sqls", "mqls"),
        sql_to_opp=rate("deals_created", "sqls"),
        opp_to_won=won / (won + lost) if won + lost else 0.0,
        deal_size=float(window.revenue_won.sum()) / won if won else 0.0,
        margin_ratio=float(margin) / float(window.revenue_won.sum())
        if margin is not None and window.revenue_won.sum() else None,
        churn=float(window.churned.sum()) / float(window.active_at_start.sum())
        if window.active_at_start.sum() else 0.0,
        advocacy=float(window.evangelists.sum()) / quarters / active if active else 0.0,
        referrals_per_advocate=referral / advocates if advocates else 0.0,
        customers=lifetime_customers, advocates=advocates,
        spend=float(window.spend.sum()) / quarters if window.spend.notna().any() else None,
        measured=f"{first.year} Q{(first.month - 1) // 3 + 1} – "
                 f"{last.year} Q{(last.month - 1) // 3 + 1}")


def totals(run: pd.DataFrame) -> dict[str, float]:
    """Sums over the horizon (flows) and end values (stocks) of one projection."""
    out = {k: float(run[k].sum()) for k in ("leads", "won", "revenue")}
    out["margin"] = float(run["margin"].sum()) if run["margin"].notna().all() else np.nan
    out["customers at end"] = float(run["customers"].iloc[-1])
    out["advocates at end"] = float(run["advocates"].iloc[-1])
    return out
