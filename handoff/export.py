"""Files a user downloads: CSV that a spreadsheet cannot mistake for formulas, and charts
that carry their own context (title, filters, period, data source) in the app's colours."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

import pandas as pd

THEME_FILE = Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml"

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        try:
            float(value)  # a negative number such as -12.5 is data, not a formula
            return value
        except ValueError:
            return "'" + value
    return value


def safe_csv(frame: pd.DataFrame) -> bytes:
    """CSV bytes (UTF-8 with BOM, so Excel reads accents) with formula-like text neutralised."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype) in ("string", "str"):
            # only cells that start like a formula go through the exact check (fast on 50k rows)
            starts = (out[column].astype("string").str.startswith(_FORMULA_STARTS)
                      .fillna(False).to_numpy(dtype=bool))
            if starts.any():
                out[column] = out[column].astype(object)
                out.loc[starts, column] = out.loc[starts, column].map(neutralised)
    out.columns = [neutralised(str(c)) for c in out.columns]
    return out.to_csv(index=False).encode("utf-8-sig")


@lru_cache(maxsize=1)
def theme() -> dict[str, object]:
    """The app's theme from .streamlit/config.toml: Streamlit applies it on screen, but the
    offline renderer does not know it, so exported charts carry it in their config."""
    with open(THEME_FILE, "rb") as f:
        return tomllib.load(f).get("theme", {})


def presentable(spec: dict, title: str, lines: list[str]) -> dict:
    """A chart spec for a deck: its title, the lines that say what it shows (filters,
    period, data source) as a subtitle, and the app's colours and font."""
    t = theme()
    colours = list(t.get("chartCategoricalColors") or [])
    primary = str(t.get("primaryColor") or (colours[0] if colours else "#2563eb"))
    font = str(t.get("font") or "sans-serif")
    out = dict(spec)
    out["title"] = {"text": title, "subtitle": lines, "anchor": "start", "fontSize": 16,
                    "subtitleFontSize": 11, "subtitleColor": "#475569", "offset": 12}
    out["background"] = "white"
    out["padding"] = 16
    config = dict(out.get("config") or {})
    config.update({"font": font, "mark": {"color": primary}})
    if colours:
        config["range"] = {**config.get("range", {}), "category": colours}
    out["config"] = config
    return out


def png_from_spec(spec: str) -> bytes:
    """A Vega-Lite spec as a PNG at twice screen resolution, rendered offline."""
    import vl_convert

    return vl_convert.vegalite_to_png(spec, scale=2)


def svg_from_spec(spec: str) -> str:
    import vl_convert

    return vl_convert.vegalite_to_svg(spec)
