"""No input path can make DuckDB read a local file, load an extension or change a setting:
file names, header names, cell values, filter values and scenario links are all data."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from handoff import (
    close_rates,
    funnel,
    funnel_stats,
    objectives,
    pipeline,
    whatif,
)
from handoff.filters import Filters, filter_options
from handoff.funnel import FunnelRequest
from handoff.scenarios_ui import decode, encode
from handoff.summary import home_summary

CANARY = "CANARY-7f3a-SECRET"


@pytest.fixture(scope="module")
def canary(tmp_path_factory):
    path = tmp_path_factory.mktemp("outside") / "secret.csv"
    path.write_text(f"secret\n{CANARY}\n")
    return str(path)


def _attacks(canary: str) -> list[str]:
    return [f"'); select * from read_csv('{canary}'); --", f"read_csv('{canary}')",
            "'; install httpfs; load httpfs; --", "'; set enable_external_access=true; --",
            f"'; attach '{canary}.db' as x; --", f"$start); copy deals to '{canary}.out'; --",
            "../../etc/passwd", "x' or '1'='1"]


@pytest.fixture(scope="module")
def hostile_db(canary):
    attacks = _attacks(canary)
    header = ",".join(["deal_id", "stage", "amount", "owner", "source", "close_date",
                       f"\"{attacks[1]}\""])
    rows = [",".join([f"\"{a}\"", "Won" if i % 2 else "Lost", str(100 + i), f"\"{a}\"",
                      f"\"{a}\"", "2024-03-01", "1"]) for i, a in enumerate(attacks)]
    data = (header + "\n" + "\n".join(rows) + "\n").encode()
    name = f"{attacks[0]}.csv"
    return pipeline.load_files([(name, data)])


def _state(db) -> tuple:
    with db.connection.cursor() as cur:
        settings = cur.execute(
            "select current_setting('enable_external_access'), "
            "current_setting('lock_configuration'), current_setting('memory_limit'), "
            "current_setting('autoload_known_extensions')").fetchone()
        tables = cur.execute("select table_name, estimated_size from duckdb_tables() "
                             "order by 1").fetchall()
        functions = cur.execute("select count(*) from duckdb_functions()").fetchone()
    return settings, tables, functions  # a loaded extension would add functions


def _strings(value: object) -> list[str]:
    if isinstance(value, pd.DataFrame):
        return [str(v) for v in value.astype(str).to_numpy().ravel()]
    if hasattr(value, "__dict__"):
        return [s for v in vars(value).values() for s in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return [str(value)]


def test_every_input_path_stays_data(hostile_db, canary):
    before = _state(hostile_db)
    assert before[0][0] is False or before[0][0] in ("false", "False", False)
    attacks = _attacks(canary)
    f = Filters(dt.date(2000, 1, 1), dt.date(2099, 12, 31), sources=tuple(attacks),
                segments=tuple(attacks), owners=tuple(attacks), all_time=True)
    plain = Filters(dt.date(2000, 1, 1), dt.date(2099, 12, 31), all_time=True)
    outputs = []
    for filters in (f, plain):
        outputs += [home_summary(hostile_db), filter_options(hostile_db),
                    funnel.funnel(hostile_db, filters, FunnelRequest(unit="deals",
                                                                     breakdown="owner")),
                    funnel.records(hostile_db, filters, FunnelRequest(unit="deals"), 1,
                                   "reached"),
                    funnel_stats.cohort_trend(hostile_db, filters),
                    close_rates.close_rates(hostile_db, filters, "owner",
                                            sales_sources=tuple(attacks)),
                    close_rates.sales_cycle(hostile_db, filters, "source", tuple(attacks)),
                    objectives.periods(hostile_db, filters, "quarter", tuple(attacks), 168.0)]
    link = encode(whatif.Scenario(name=attacks[0]))
    outputs.append(decode(link))
    with pytest.raises(ValueError):
        decode(encode(whatif.Scenario()).replace("e", "%"))
    with pytest.raises(ValueError):
        whatif.Scenario.from_json(json.dumps({"horizon": attacks[0]}))
    seen = " ".join(s for o in outputs for s in _strings(o))
    assert CANARY not in seen
    assert _state(hostile_db) == before
    owners = close_rates.close_rates(hostile_db, plain, "owner")
    assert set(owners.grp) == set(attacks)  # the attack strings are stored, as data


@pytest.mark.parametrize("bad", ["owner; drop table deals", "quarter' or 1=1 --"])
def test_identifiers_come_from_allow_lists(hostile_db, bad):
    plain = Filters(dt.date(2000, 1, 1), dt.date(2099, 12, 31), all_time=True)
    before = _state(hostile_db)
    with pytest.raises(ValueError):
        close_rates.close_rates(hostile_db, plain, bad)
    with pytest.raises(ValueError):
        objectives.periods(hostile_db, plain, bad, (), 168.0)
    assert _state(hostile_db) == before
