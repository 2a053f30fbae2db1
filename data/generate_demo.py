"""Generate Handoff's demo dataset: a synthetic B2B SaaS company, 2024-10 to 2026-09.

The app opens on this data so that every page has something true to show before anyone
uploads an export. The numbers are made up but shaped like a real funnel, and five stories
are planted so that each page has something to find (see data/README.md):

1. Referral leads close best.
2. Paid search brings the most leads but weaker ones.
3. One account executive closes few deals but wins the most often.
4. The SMB segment saturates while the others keep growing.
5. In 2025 Q3 MQL volume rose while MQL -> SQL acceptance fell.

Everything is drawn from one seeded numpy generator and nothing depends on the clock, so
running the script twice writes identical tables. Usage:

    .venv/bin/python data/generate_demo.py [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20241001
START = pd.Timestamp("2024-10-01")
END = pd.Timestamp("2026-10-01")  # leads are created before this
SNAPSHOT = pd.Timestamp("2026-10-31")  # the data is "as of" this moment; nothing later
DAY_US = 86_400 * 1_000_000
OUT_DIR = Path(__file__).resolve().parent / "demo"

SOURCES = ["Organic search", "Paid search", "Email", "Social", "Referral", "Events",
           "Partner", "Outbound"]
SOURCE_WEIGHTS = [0.18, 0.26, 0.11, 0.12, 0.06, 0.08, 0.07, 0.12]
# Multipliers on the base rate of each step: lead->MQL, MQL->SQL, SQL->opportunity, win.
SOURCE_FACTORS = {
    "Organic search": (1.00, 1.05, 1.00, 1.00),
    "Paid search": (0.90, 0.75, 0.90, 0.85),
    "Email": (1.10, 0.95, 1.00, 0.95),
    "Social": (0.85, 0.85, 0.95, 0.90),
    "Referral": (1.30, 1.35, 1.10, 1.35),
    "Events": (1.15, 1.00, 1.00, 1.05),
    "Partner": (1.10, 1.15, 1.05, 1.15),
    "Outbound": (0.75, 0.95, 0.90, 0.90),
}
BASE_MQL, BASE_SQL, BASE_OPP, BASE_WIN = 0.44, 0.49, 0.72, 0.31

SEGMENTS = ["SMB", "Mid-market", "Enterprise"]
# Monthly lead volume at the first and last month of the period (before seasonality).
SEGMENT_VOLUME = {"SMB": (400.0, 110.0), "Mid-market": (280.0, 560.0),
                  "Enterprise": (100.0, 200.0)}
SEGMENT_WIN = {"SMB": 1.10, "Mid-market": 1.00, "Enterprise": 0.85}
SEASONALITY = {1: 1.08, 2: 1.02, 3: 1.08, 4: 1.00, 5: 1.00, 6: 0.95, 7: 0.88, 8: 0.82,
               9: 1.05, 10: 1.10, 11: 1.05, 12: 0.82}

SDRS = ["Maya Lindqvist", "Jonah Okafor", "Sofia Marquez", "Theo Brandt", "Aisha Karim"]
AES = {  # owner -> (team, manager, win-rate multiplier)
    "Ethan Caldwell": ("AE East", "Rachel Novak", 1.00),
    "Grace Whitman": ("AE East", "Rachel Novak", 1.10),
    "Liam Forsythe": ("AE East", "Rachel Novak", 0.90),
    "Nora Castillo": ("AE West", "Daniel Reyes", 1.05),
    "Owen Takahashi": ("AE West", "Daniel Reyes", 0.85),
    "Hannah Brooks": ("AE West", "Daniel Reyes", 0.95),
    "Victor Almeida": ("Enterprise", "Claire Dubois", 1.00),
    "Isabel Moreau": ("Enterprise", "Claire Dubois", 1.05),
    "Priya Raman": ("Enterprise", "Claire Dubois", 2.40),
}
STAR_AE = "Priya Raman"  # works a small book of hand-picked deals (story 3)
STAR_DEALS = 30
SDR_MANAGER, SDR_TEAM = "Marcus Bell", "SDR"

DEAL_STAGES = ["Discovery", "Demo", "Proposal", "Negotiation"]
LOST_AT = [0.35, 0.30, 0.20, 0.15]  # where a lost deal drops out
AMOUNT_MEDIAN = {"SMB": 9_000.0, "Mid-market": 30_000.0, "Enterprise": 80_000.0}
PRODUCTS = {"SMB": (["Core", "Growth"], [0.7, 0.3]),
            "Mid-market": (["Core", "Growth", "Enterprise"], [0.25, 0.55, 0.20]),
            "Enterprise": (["Growth", "Enterprise"], [0.2, 0.8])}
ADD_ON = "Analytics add-on"

PAID_CHANNELS = {  # channel -> cost per lead in USD (spend is only booked for these)
    "Paid search": 140.0, "Social": 110.0, "Email": 35.0, "Events": 260.0,
    "Partner": 90.0, "Outbound": 75.0}
WEB_CHANNELS = {  # channel -> visits per lead
    "Organic search": 70.0, "Paid search": 45.0, "Email": 25.0, "Social": 90.0,
    "Referral": 12.0, "Partner": 30.0}

NAME_A = ["Acme", "Apex", "Arbor", "Atlas", "Aurora", "Beacon", "Birch", "Blue Harbor",
          "Bright", "Cascade", "Cedar", "Clearwater", "Cobalt", "Copper", "Crescent",
          "Crown", "Delta", "Ember", "Evergreen", "Falcon", "Fieldstone", "Granite",
          "Harbor", "Helix", "Horizon", "Ironwood", "Juniper", "Keystone", "Lakeside",
          "Lumen", "Maple", "Meridian", "Northwind", "Nova", "Oakridge", "Orbit", "Pioneer",
          "Pinnacle", "Quarry", "Redwood", "Ridge", "Riverbend", "Sable", "Silverline",
          "Summit", "Sterling", "Stonegate", "Tidewater", "Trident", "Upland", "Vantage",
          "Vertex", "Willow", "Zenith", "Bluebird", "Foxglove", "Hawthorn", "Larch",
          "Marigold", "Saffron"]
NAME_B = ["Analytics", "Logistics", "Health", "Robotics", "Foods", "Energy", "Media",
          "Finance", "Labs", "Software", "Retail", "Manufacturing", "Insurance", "Travel",
          "Education", "Biotech", "Security", "Capital", "Consulting", "Design", "Freight",
          "Telecom", "Pharma", "Realty", "Outdoor", "Apparel", "Dental", "Legal",
          "Marketing", "Cloud"]
NAME_C = ["Inc.", "Ltd", "GmbH", "Group", "Co.", "LLC"]


def months() -> pd.DatetimeIndex:
    """First day of each month of the lead period."""
    return pd.date_range(START, END - pd.Timedelta(days=1), freq="MS")


def account_pool(rng: np.random.Generator) -> np.ndarray:
    """Unique made-up company names, shuffled."""
    names = np.array([f"{a} {b} {c}" for a in NAME_A for b in NAME_B for c in NAME_C])
    return rng.permutation(names)


def to_ts(us: np.ndarray) -> pd.Series:
    """Microseconds since the epoch (NaN = missing) to a naive datetime64[us] series."""
    out = pd.Series(pd.NaT, index=range(len(us)), dtype="datetime64[us]")
    ok = ~np.isnan(us)
    out[ok] = pd.to_datetime(np.floor(us[ok] / 1e6).astype("int64"), unit="s").astype(
        "datetime64[us]")
    return out


def ts_us(t: pd.Timestamp) -> float:
    """A timestamp as microseconds since the epoch."""
    return float(np.datetime64(pd.Timestamp(t), "us").astype("int64"))


def lag_days(rng: np.random.Generator, n: int, mean: float, shape: float = 2.0) -> np.ndarray:
    """Gamma-distributed lags in microseconds with the given mean in days."""
    return rng.gamma(shape, mean / shape, n) * DAY_US


def make_leads(rng: np.random.Generator) -> pd.DataFrame:
    """Leads with a date per lifecycle stage reached, up to opportunity (customer comes later)."""
    rows = []
    month_list = months()
    n_months = len(month_list)
    for i, m in enumerate(month_list):
        frac = i / (n_months - 1)
        days = pd.bdate_range(m, m + pd.offsets.MonthEnd(0))
        for seg in SEGMENTS:
            lo, hi = SEGMENT_VOLUME[seg]
            n = rng.poisson((lo + (hi - lo) * frac) * SEASONALITY[m.month])
            day = rng.choice(days.values, n).astype("datetime64[us]").astype("int64")
            secs = rng.uniform(8 * 3600, 18 * 3600, n)
            rows.append(pd.DataFrame({"t": day + secs * 1e6, "segment": seg, "frac": frac}))
    df = pd.concat(rows, ignore_index=True)
    df = df.sort_values("t", kind="stable").reset_index(drop=True)
    n = len(df)
    df["source"] = rng.choice(SOURCES, n, p=SOURCE_WEIGHTS)
    df["owner"] = rng.choice(SDRS, n, p=[0.22, 0.22, 0.20, 0.18, 0.18])
    pool = account_pool(rng)
    seg_pool = {s: pool[k::3] for k, s in enumerate(SEGMENTS)}
    df["account"] = ""
    for seg in SEGMENTS:
        mask = (df["segment"] == seg).to_numpy()
        # A few accounts send several contacts: draw from a pool smaller than the lead count.
        size = max(int(mask.sum() * 0.8), 1)
        df.loc[mask, "account"] = rng.choice(seg_pool[seg][:size], int(mask.sum()))

    f = np.array([SOURCE_FACTORS[s] for s in df["source"]])
    created = df["t"].to_numpy()
    created_month = pd.to_datetime(created.astype("int64"), unit="us")
    is_smb = (df["segment"] == "SMB").to_numpy()
    frac = df["frac"].to_numpy()
    # Story 5: a lower MQL scoring threshold in 2025 Q3 lets more, weaker leads through.
    q3 = (created_month >= "2025-07-01") & (created_month < "2025-10-01")
    p_mql = BASE_MQL * f[:, 0] * np.where(q3, 1.45, 1.0)
    mql = created + lag_days(rng, n, 4.0, 1.5)
    mql[rng.random(n) >= p_mql] = np.nan

    mql_month = pd.to_datetime(np.nan_to_num(mql).astype("int64"), unit="us")
    mql_q3 = (mql_month >= "2025-07-01") & (mql_month < "2025-10-01")
    # Story 4: SMB prospects left late in the period fit worse (saturation).
    smb_fit = np.where(is_smb, 1.0 - 0.45 * frac, 1.0)
    p_sql = BASE_SQL * f[:, 1] * np.where(mql_q3, 0.62, 1.0) * smb_fit
    sql = mql + lag_days(rng, n, 9.0)
    sql[rng.random(n) >= p_sql] = np.nan

    opp = sql + lag_days(rng, n, 12.0)
    opp[rng.random(n) >= BASE_OPP * f[:, 2]] = np.nan

    snap = ts_us(SNAPSHOT)
    for col in (mql, sql, opp):
        col[col > snap] = np.nan
    sql[np.isnan(mql)] = np.nan
    opp[np.isnan(sql)] = np.nan

    return pd.DataFrame({
        "lead_id": [f"L{i + 1:06d}" for i in range(n)],
        "created_us": created, "source": df["source"], "segment": df["segment"],
        "owner": df["owner"], "account": df["account"], "mql_us": mql, "sql_us": sql,
        "opp_us": opp, "frac": frac,
    })


def deal_path(rng: np.random.Generator, created: float, segment: str,
              won: bool) -> tuple[list[str], list[float]]:
    """Stages a deal passes through and when it enters each, ending Closed Won/Closed Lost."""
    slow = 1.6 if segment == "Enterprise" else 1.0
    last = 3 if won else int(rng.choice(4, p=LOST_AT))
    stages, times = [DEAL_STAGES[0]], [created]
    t = created
    for k in range(1, last + 1):
        t += lag_days(rng, 1, 9.0 * slow)[0]
        stages.append(DEAL_STAGES[k])
        times.append(t)
    t += lag_days(rng, 1, 8.0 * slow)[0]
    stages.append("Closed Won" if won else "Closed Lost")
    times.append(t)
    return stages, times


def make_deals(rng: np.random.Generator, leads: pd.DataFrame
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deals for every lead that reached opportunity (some get a second one), with history."""
    opp = leads[leads["opp_us"].notna()]
    snap = ts_us(SNAPSHOT)
    regular = [a for a in AES if a != STAR_AE]
    east_west = [a for a in regular if AES[a][0] != "Enterprise"]
    ent = [a for a in regular if AES[a][0] == "Enterprise"]

    # First deals open when the lead becomes an opportunity.
    specs = []
    for r in opp.itertuples(index=False):
        specs.append({"lead_id": r.lead_id, "created": r.opp_us, "source": r.source,
                      "segment": r.segment, "account": r.account, "expansion": False})
    # The star AE gets a small book of deals that have had time to close.
    eligible = [i for i, s in enumerate(specs) if s["created"] < ts_us("2026-08-01")]
    star = set(rng.choice(eligible, STAR_DEALS, replace=False).tolist())

    deals, history = [], []

    def close(spec: dict, owner: str) -> dict:
        """Draw a deal's outcome and path; censor it at the snapshot."""
        win_p = (BASE_WIN * SOURCE_FACTORS[spec["source"]][3] * SEGMENT_WIN[spec["segment"]]
                 * AES[owner][2])
        won = bool(rng.random() < min(win_p, 0.9))
        stages, times = deal_path(rng, spec["created"], spec["segment"], won)
        seen = [(s, t) for s, t in zip(stages, times, strict=True) if t <= snap]
        closed = seen[-1][0].startswith("Closed")
        status = ("won" if won else "lost") if closed else "open"
        seg = spec["segment"]
        if spec["expansion"]:
            product = ADD_ON
            amount = rng.lognormal(np.log(AMOUNT_MEDIAN[seg] * 0.35), 0.4)
        else:
            names, p = PRODUCTS[seg]
            product = str(rng.choice(names, p=p))
            amount = rng.lognormal(np.log(AMOUNT_MEDIAN[seg]), 0.5)
        amount = float(np.clip(round(amount, -2), 5_000, 150_000))
        share = rng.uniform(0.40, 0.80)
        if rng.random() < 0.04:  # heavily discounted
            share = rng.uniform(-0.10, 0.05)
        margin = round(amount * share, 2)
        if status == "won" and rng.random() < 0.03:
            margin = np.nan
        return {**spec, "owner": owner, "status": status, "stage": seen[-1][0],
                "closed": seen[-1][1] if closed else np.nan, "amount": amount,
                "margin": margin, "product": product, "history": seen}

    def pick_owner(spec: dict) -> str:
        """Enterprise deals go to the Enterprise team, the rest to East/West."""
        return str(rng.choice(ent if spec["segment"] == "Enterprise" else east_west))

    for i, spec in enumerate(specs):
        d = close(spec, STAR_AE if i in star else pick_owner(spec))
        deals.append(d)
        # Some leads come back: a retry after a loss, or an add-on after a win.
        again = {"won": 0.15, "lost": 0.10}.get(d["status"], 0.0)
        if rng.random() < again:
            t = d["closed"] + lag_days(rng, 1, 90.0)[0]
            if t <= snap:
                nxt = {**spec, "created": t, "expansion": d["status"] == "won"}
                deals.append(close(nxt, d["owner"]))

    deals.sort(key=lambda d: (d["created"], d["lead_id"]))
    for k, d in enumerate(deals):
        d["deal_id"] = f"D{k + 1:05d}"
        history += [(d["deal_id"], s, t) for s, t in d["history"]]
    df = pd.DataFrame(deals)
    out = pd.DataFrame({
        "deal_id": df["deal_id"], "lead_id": df["lead_id"], "account": df["account"],
        "created_at": to_ts(df["created"].to_numpy(float)),
        "closed_at": to_ts(df["closed"].to_numpy(float)),
        "stage": df["stage"], "status": df["status"],
        "amount": df["amount"].astype("float64"), "margin": df["margin"].astype("float64"),
        "owner": df["owner"], "source": df["source"], "segment": df["segment"],
        "product": df["product"],
    })
    hist = pd.DataFrame(history, columns=["deal_id", "stage", "t"])
    hist = pd.DataFrame({"deal_id": hist["deal_id"], "stage": hist["stage"],
                         "entered_at": to_ts(hist["t"].to_numpy(float))})
    return out, hist


def finish_leads(rng: np.random.Generator, raw: pd.DataFrame, deals: pd.DataFrame
                 ) -> pd.DataFrame:
    """Customer date from the first won deal, evangelist date after it, stage and converted."""
    won = deals[deals["status"] == "won"].groupby("lead_id")["closed_at"].min()
    customer = raw["lead_id"].map(won)
    cust_us = customer.to_numpy("datetime64[us]").astype("int64").astype(float)
    cust_us[customer.isna().to_numpy()] = np.nan
    n = len(raw)
    p_evangelist = np.where(raw["source"] == "Referral", 0.40, 0.25)
    evangelist = cust_us + lag_days(rng, n, 120.0, 3.0)
    evangelist[(rng.random(n) >= p_evangelist) | (evangelist > ts_us(SNAPSHOT))] = np.nan

    cols = {"lead": raw["created_us"].to_numpy(float), "mql": raw["mql_us"].to_numpy(float),
            "sql": raw["sql_us"].to_numpy(float), "opportunity": raw["opp_us"].to_numpy(float),
            "customer": cust_us, "evangelist": evangelist}
    stage = np.full(n, "lead", dtype=object)
    for name, values in cols.items():
        stage[~np.isnan(values)] = name
    out = pd.DataFrame({
        "lead_id": raw["lead_id"], "created_at": to_ts(cols["lead"]),
        "source": raw["source"], "segment": raw["segment"], "owner": raw["owner"],
        "account": raw["account"], "stage": stage, "converted": ~np.isnan(cust_us),
    })
    for name, values in cols.items():
        out[f"{name}_at"] = to_ts(values)
    out["stage"] = out["stage"].astype("str")
    return out


def make_customers(rng: np.random.Generator, leads: pd.DataFrame) -> pd.DataFrame:
    """One customer per converted lead, with churn, renewals, referrals and NPS."""
    c = leads[leads["converted"]].sort_values(["customer_at", "lead_id"]).reset_index(drop=True)
    n = len(c)
    snap = SNAPSHOT
    evangelist = c["evangelist_at"].notna().to_numpy()
    p_churn = c["segment"].map({"SMB": 0.35, "Mid-market": 0.20, "Enterprise": 0.10})
    churn_days = rng.uniform(180, 540, n)
    churned = c["customer_at"] + pd.to_timedelta(np.round(churn_days * 86400), unit="s")
    churns = (rng.random(n) < p_churn.to_numpy()) & ~evangelist & (churned <= snap).to_numpy()
    churned_at = churned.where(churns)
    end = churned_at.fillna(snap)
    renewals = ((end - c["customer_at"]).dt.days // 365).astype("int64")
    referrals = np.where(evangelist, 1 + rng.poisson(2.5, n), rng.poisson(0.25, n))
    nps = np.where(evangelist, rng.choice([9, 10], n, p=[0.4, 0.6]),
                   np.where(churns, rng.integers(0, 7, n),
                            rng.choice(np.arange(5, 11), n,
                                       p=[0.08, 0.12, 0.25, 0.30, 0.15, 0.10])))
    nps_s = pd.Series(nps, dtype="Int64")
    nps_s[(rng.random(n) < 0.12) & ~evangelist] = pd.NA
    return pd.DataFrame({
        "customer_id": [f"C{i + 1:05d}" for i in range(n)], "lead_id": c["lead_id"],
        "account": c["account"], "segment": c["segment"],
        "started_at": c["customer_at"], "churned_at": churned_at.astype("datetime64[us]"),
        "renewals": renewals, "referrals": referrals.astype("int64"), "nps": nps_s,
    })


def make_teams() -> pd.DataFrame:
    """Each SDR and AE with their manager and team."""
    rows = [(s, SDR_MANAGER, SDR_TEAM) for s in SDRS]
    rows += [(a, mgr, team) for a, (team, mgr, _) in AES.items()]
    return pd.DataFrame(rows, columns=["owner", "manager", "team"])


def make_spend(rng: np.random.Generator, leads: pd.DataFrame) -> pd.DataFrame:
    """Monthly spend for paid channels, roughly cost-per-lead times leads, with noise."""
    month = leads["created_at"].dt.to_period("M").dt.to_timestamp()
    counts = leads.groupby([month, leads["source"]]).size()
    rows = []
    for m in months():
        for ch, cpl in PAID_CHANNELS.items():
            amount = counts.get((m, ch), 0) * cpl * rng.uniform(0.85, 1.15)
            if ch == "Events" and m.month in (3, 6, 10):
                amount *= 1.8  # big trade shows
            if ch in ("Email", "Social") and pd.Timestamp("2025-07-01") <= m < pd.Timestamp(
                    "2025-10-01"):
                amount *= 1.4  # the Q3 2025 lead-gen campaign
            rows.append((m, ch, round(float(amount), 2)))
    out = pd.DataFrame(rows, columns=["month", "channel", "amount"])
    out["month"] = out["month"].astype("datetime64[us]")
    return out


def make_awareness(rng: np.random.Generator, leads: pd.DataFrame) -> pd.DataFrame:
    """Monthly website visits per channel, roughly visits-per-lead times leads, with noise."""
    month = leads["created_at"].dt.to_period("M").dt.to_timestamp()
    counts = leads.groupby([month, leads["source"]]).size()
    rows = []
    for m in months():
        for ch, per_lead in WEB_CHANNELS.items():
            visits = counts.get((m, ch), 0) * per_lead * rng.uniform(0.9, 1.1)
            rows.append((m, ch, float(round(visits))))
    out = pd.DataFrame(rows, columns=["month", "channel", "visits"])
    out["month"] = out["month"].astype("datetime64[us]")
    return out


def generate() -> dict[str, pd.DataFrame]:
    """All demo tables, keyed by table name."""
    rng = np.random.default_rng(SEED)
    raw = make_leads(rng)
    deals, history = make_deals(rng, raw)
    leads = finish_leads(rng, raw, deals)
    tables = {
        "leads": leads, "deals": deals, "stage_history": history, "teams": make_teams(),
        "spend": make_spend(rng, leads), "customers": make_customers(rng, leads),
        "awareness": make_awareness(rng, leads),
    }
    for frame in tables.values():
        for col in frame.columns:
            if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col]):
                frame[col] = frame[col].astype("str")
    return tables


def write(tables: dict[str, pd.DataFrame], out: Path) -> None:
    """One Parquet file per table."""
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_parquet(out / f"{name}.parquet", index=False, compression="zstd")


def main() -> None:
    """Generate the tables and write them to --out (default data/demo)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output directory")
    args = parser.parse_args()
    tables = generate()
    write(tables, args.out)
    for name, frame in tables.items():
        print(f"{name}: {len(frame)} rows")


if __name__ == "__main__":
    main()
