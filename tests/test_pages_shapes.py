"""Pages on the export shapes (AppTest): every page renders, and the controls added for the
shapes change the numbers as an independent pandas computation says they should."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from handoff import ingest, lead_conversion, mapping
from handoff.schema import LEAD_STAGES
from tests.conftest import FIXTURES, fixture_bytes, into_workspace, load_files, shown
from tests.test_close_rates import wilson

PAGES = ["../Home.py", "../pages/1_Data.py", "../pages/2_Funnel.py",
         "../pages/3_Close_rates.py", "../pages/4_Objectives.py", "../pages/5_What_if.py"]
SHAPES = {"funnel": ("funnel_mqls.csv", "funnel_closed_deals.csv"),
          "lead_scoring": ("lead_scoring.csv",), "zoho": ("zoho_leads.csv", "zoho_potentials.csv"),
          "telco": ("telco_churn.csv",), "eu": ("eu_resave_deals.csv",)}
_DBS: dict[str, object] = {}


def _db(shape: str):
    if shape not in _DBS:
        _DBS[shape] = load_files(*SHAPES[shape])
    return _DBS[shape]


def _run(script: str, db) -> AppTest:
    at = AppTest.from_file(script, default_timeout=60)
    into_workspace(db)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("script", PAGES)
@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_page_renders_on_every_shape(script, shape):
    _run(script, _db(shape))


@pytest.mark.parametrize(("script", "key", "labels"), [
    ("../pages/2_Funnel.py", "funnel.tab", ["Compare periods", "Time to convert", "Trends",
                                            "Drill down", "Loyalty"]),
    ("../pages/3_Close_rates.py", "cr.tab", ["Compare two", "Sales cycle", "Trend by quarter",
                                             "Lead conversion"])])
@pytest.mark.parametrize("shape", ["funnel", "zoho", "eu"])
def test_every_tab_renders_on_the_shapes_with_deals(script, key, labels, shape):
    at = _run(script, _db(shape))
    for label in labels:
        at.session_state[key] = label
        at.run()
        assert not at.exception, (label, [e.value for e in at.exception])


def test_lead_conversion_controls_drive_every_grouping_and_stage():
    raw = pd.read_csv(FIXTURES / "lead_scoring.csv", dtype=str, keep_default_na=False)
    at = _run("../pages/3_Close_rates.py", _db("lead_scoring"))
    columns = {"source": "Lead Source", "origin": "Lead Origin", "segment": "Specialization"}
    options = at.selectbox(key="lc.by").options
    assert options == ["Source / channel", "Origin / entry point", "Segment", "All leads"]
    for by in ("source", "origin", "segment", "none"):
        at.selectbox(key="lc.by").set_value(by).run()
        assert not at.exception
        for to in at.selectbox(key="lc.to").options:
            at.selectbox(key="lc.to").set_value(to.lower()).run()
            table = next(d.value for d in at.dataframe if "Leads (n)" in d.value.columns)
            table = table.rename(columns={lead_conversion.GROUPS[by]: "Group"})
            if by == "none":
                expected = pd.Series({"All leads": (raw.Converted == "1").sum()})
            else:
                group = raw[columns[by]].replace({"Select": "(none)", "": "(none)"})
                group = group.str.capitalize() if by == "source" else group
                table = table.assign(Group=table.Group.str.capitalize()
                                     if by == "source" else table.Group)
                expected = raw.assign(g=group).groupby("g").Converted.apply(
                    lambda c: (c == "1").sum())
            got = table.set_index("Group")["Converted"]
            assert got.sort_index().to_dict() == expected.sort_index().to_dict(), (by, to)
            top = table.iloc[0]
            low = wilson(top.Converted, top["Leads (n)"])[0]
            assert top["95% CI from"] == pytest.approx(100 * low)  # shown in percent


def test_won_only_deals_say_so_and_lead_conversion_shows_mql_to_won():
    at = _run("../pages/3_Close_rates.py", _db("funnel"))
    assert any("holds won deals only" in i.value for i in at.info)
    at.session_state["cr.tab"] = "Lead conversion"
    at.run()
    mqls = pd.read_csv(FIXTURES / "funnel_mqls.csv")
    won = pd.read_csv(FIXTURES / "funnel_closed_deals.csv")
    table = next(d.value for d in at.dataframe if "Leads (n)" in d.value.columns)
    assert table["Converted"].sum() == won.mql_id.isin(mqls.mql_id).sum()
    assert table["Leads (n)"].sum() == len(mqls)


def test_home_does_not_show_a_100_percent_win_rate_for_won_deals_only():
    at = _run("../Home.py", _db("funnel"))
    won = pd.read_csv(FIXTURES / "funnel_closed_deals.csv")
    metrics = {m.label: m for m in at.metric}
    assert metrics["Deals won"].value == f"{len(won):,}"
    assert metrics["Win rate"].value == "—"
    assert "holds won deals only" in metrics["Win rate"].help


def test_loyalty_on_home_funnel_close_rates_and_objectives():
    raw = pd.read_csv(FIXTURES / "telco_churn.csv")
    churned = (raw.Churn == "Yes").sum()
    retention = f"{1 - churned / len(raw):.1%}"
    for script in ("../Home.py", "../pages/2_Funnel.py", "../pages/4_Objectives.py"):
        at = _run(script, _db("telco"))
        assert _metric(at, "Retention") == retention, script
        assert _metric(at, "Churn rate") == f"{churned / len(raw):.1%}"
        assert _metric(at, "Median tenure") == f"{raw.tenure.median():,.1f} mo"
    at = _run("../pages/3_Close_rates.py", _db("telco"))
    table = next(d.value for d in at.dataframe if "Customers (n)" in d.value.columns)
    expected = raw.groupby("Contract").Churn.apply(lambda c: (c == "No").sum())
    assert table.set_index("Segment")["Still customers"].to_dict() == expected.to_dict()


def test_the_undated_funnel_says_why_it_has_no_periods():
    at = _run("../pages/2_Funnel.py", _db("lead_scoring"))
    assert any("periods cannot be chosen" in c.value for c in at.caption)
    table = next(d.value for d in at.dataframe if "Count" in d.value.columns)
    raw = pd.read_csv(FIXTURES / "lead_scoring.csv")
    assert table.Count.tolist() == [len(raw), int((raw.Converted == 1).sum())]


@pytest.mark.parametrize("means", LEAD_STAGES[1:])
def test_every_meaning_of_a_converted_flag(means):
    raw = ingest.read_upload("z.csv", fixture_bytes("zoho_leads.csv"))
    m = mapping.propose(raw)
    m.converted_means = means
    frame, _ = mapping.apply(raw, m)
    leads = pd.read_csv(FIXTURES / "zoho_leads.csv")
    kept = leads[leads["Lead Status"] != "Junk Lead"]
    assert (frame.stage == means).sum() == (kept.CONVERTED).sum()


@pytest.mark.parametrize("floor", LEAD_STAGES[:5])
def test_every_stage_every_row_can_be_at(floor):
    raw = ingest.read_upload("m.csv", fixture_bytes("funnel_mqls.csv"))
    m = mapping.propose(raw)
    m.row_stage = floor
    frame, _ = mapping.apply(raw, m)
    assert (frame.stage == floor).all()
    rank = LEAD_STAGES.index(floor)
    assert all(frame[f"{s}_at"].notna().all() for s in LEAD_STAGES[:rank + 1])


def test_demo_loyalty_from_dates_on_home_and_the_funnel_tab():
    from handoff.demo import DEMO_DIR, demo_database

    customers = pd.read_parquet(DEMO_DIR / "customers.parquet")
    churned = customers.churned_at.notna().sum()
    at = _run("../Home.py", demo_database())
    assert _metric(at, "Retention") == f"{1 - churned / len(customers):.1%}"
    at = _run("../pages/2_Funnel.py", demo_database())
    at.session_state["funnel.tab"] = "Loyalty"
    at.run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "Customers (n)" in d.value.columns)
    expected = customers.groupby("segment").churned_at.apply(lambda c: c.isna().sum())
    assert table.set_index("Segment")["Still customers"].to_dict() == expected.to_dict()


def test_home_says_what_it_needs_instead_of_showing_zero():
    """Leads without deals: no lead can be a customer, so 0% would be a claim; the quarter's
    MQLs need the date each lead became an MQL, so 0 per quarter would be one too."""
    leads = load_files("zoho_leads.csv")
    at = _run("../Home.py", leads)
    assert _metric(at, "Lead → customer") == "—"
    assert "none can be without deals" in next(m for m in at.metric
                                                if m.label == "Lead → customer").help
    assert not any(m.label.startswith("MQLs in ") for m in at.metric)
    assert any("MQLs per quarter: needs the" in shown(c.value) for c in at.caption)
    assert any(m.label.startswith("Leads in ") for m in at.metric)
    unlinked = load_files("zoho_leads.csv", "maven_sales_pipeline_300.csv")
    at = _run("../Home.py", unlinked)
    assert _metric(at, "Lead → customer") == "—"
    assert "None of the 300 deals points to a loaded lead" in next(
        m for m in at.metric if m.label == "Lead → customer").help
    linked = _run("../Home.py", _db("zoho"))  # potentials carry their lead's id
    assert _metric(linked, "Lead → customer").endswith("%")


@pytest.mark.parametrize(("shape", "needed"), [
    ("zoho", "MQLs: needs the 'Became MQL date' column"),
    ("funnel", "acceptance (MQLs of the period): needs the 'Became SQL date' column")])
def test_whatif_names_the_rate_it_cannot_measure_instead_of_projecting_zero(shape, needed):
    at = _run("../pages/5_What_if.py", _db(shape))
    assert any("needs dated leads and deals" in i.value for i in at.info)
    assert any(needed in shown(c.value) for c in at.caption), [c.value for c in at.caption]
    assert not at.slider  # no projection of zeros to move


def test_dates_after_today_are_reported_and_no_future_quarter_is_complete():
    """A file whose dates run into 2034 (a test record, a day/month swap): the report says
    how many dates are after today, and Home's last complete quarter is not one to come."""
    import datetime as dt

    from handoff import pipeline

    today = pd.Timestamp(dt.date.today())
    created = [today - pd.Timedelta(days=30 * k) for k in range(1, 13)] + [
        pd.Timestamp("2034-08-01"), pd.Timestamp("2034-09-30")]
    frame = pd.DataFrame({"opportunity_id": [f"D{i}" for i in range(len(created))],
                          "deal_stage": ["Won", "Lost"] * (len(created) // 2),
                          "close_value": [1000] * len(created),
                          "engage_date": [d.strftime("%Y-%m-%d") for d in created]})
    data = frame.to_csv(index=False).encode()
    raw = pipeline.read("future.csv", data)
    pending = pipeline.pending(raw, pipeline.proposed([raw])[0])
    report = next(r for r in pending.validation.columns if r.column == "engage_date")
    assert (report.future_dates, report.latest_date) == (2, "2034-09-30")
    at = _run("../Home.py", pipeline.load_files([("future.csv", data)]))
    heading = next(h.value for h in at.subheader if h.value.startswith("Last complete"))
    year, quarter = int(heading[-7:-3]), int(heading[-1])
    end = pd.Period(f"{year}Q{quarter}", freq="Q").end_time
    assert end < today, heading


@pytest.mark.parametrize(("spend_channel", "warned"), [("Search", True), ("Paid Search", False)])
def test_cac_says_when_no_spend_channel_is_a_lead_source(spend_channel, warned):
    from handoff import pipeline

    leads = pd.DataFrame({"lead_id": [f"L{i}" for i in range(40)],
                          "source": ["Paid Search", "Organic"] * 20,
                          "created_at": ["2026-01-15"] * 20 + ["2026-04-15"] * 20,
                          "stage": ["Customer"] * 20 + ["Lead"] * 20,
                          "customer_date": ["2026-03-01"] * 20 + [""] * 20})
    spend = pd.DataFrame({"month": ["2026-02-01", "2026-03-01"], "channel": spend_channel,
                          "spend": [1000, 2000]})
    db = pipeline.load_files([("leads.csv", leads.to_csv(index=False).encode()),
                              ("spend.csv", spend.to_csv(index=False).encode())])
    at = _run("../pages/4_Objectives.py", db)
    at.session_state["obj.tab"] = "CAC by channel"
    at.run()
    assert not at.exception
    shown_warnings = [shown(w.value) for w in at.warning]
    assert any("No spend channel is a lead source" in w and "spend is on Search" in w
               for w in shown_warnings) == warned, shown_warnings
    if not warned:  # the matched channel has its CAC: 3,000 spent ÷ 10 new customers
        cac = next(d for d in at.dataframe if "CAC" in d.value.columns).value
        value = cac.set_index("Channel").loc["Paid Search", "CAC"]
        assert float(str(value).strip("$").replace(",", "")) == 300


def test_home_shows_no_mql_count_when_nothing_says_which_leads_are_mqls():
    from handoff import pipeline

    plain = pd.DataFrame({"Lead - Title": [f"L{i}" for i in range(30)],
                          "Lead - Source": ["Web", "Event", "Partner"] * 10,
                          "Lead - Created": "2026-01-05 10:00:00"})
    at = _run("../Home.py", pipeline.load_files([("leads.csv",
                                                   plain.to_csv(index=False).encode())]))
    assert _metric(at, "Leads") == "30" and _metric(at, "MQLs") == "—"
    assert "Nothing in the leads file says which leads are MQLs" in next(
        m for m in at.metric if m.label == "MQLs").help
    staged = _run("../Home.py", _db("zoho"))  # a status column says how far each lead went
    assert _metric(staged, "MQLs") != "—"


def test_cac_says_how_much_spend_falls_outside_the_sidebar_range():
    from handoff import pipeline

    leads = pd.DataFrame({"lead_id": [f"L{i}" for i in range(40)],
                          "source": "Paid Search",
                          "created_at": ["2026-01-15"] * 20 + ["2026-04-15"] * 20,
                          "stage": ["Customer"] * 20 + ["Lead"] * 20,
                          "customer_date": ["2026-03-01"] * 20 + [""] * 20})
    spend = pd.DataFrame({"month": ["2026-02-01", "2026-03-01", "2026-06-01"],
                          "channel": "Paid Search", "spend": [1000, 2000, 3000]})
    db = pipeline.load_files([("leads.csv", leads.to_csv(index=False).encode()),
                              ("spend.csv", spend.to_csv(index=False).encode())])
    at = _run("../pages/4_Objectives.py", db)
    at.session_state["obj.tab"] = "CAC by channel"
    at.run()
    said = [shown(i.value) for i in at.info if "of the spend file's" in shown(i.value)]
    assert len(said) == 1 and "3,000 of the spend file's" in said[0] and "6,000" in said[0]
    assert "15 Jan 2026 and 15 Apr 2026" in said[0]  # June's spend is outside the range
