"""Files a user downloads: CSV that a spreadsheet cannot mistake for formulas."""

from __future__ import annotations

import pandas as pd

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


def png_from_spec(spec: str) -> bytes:
    """A Vega-Lite spec as a PNG at twice screen resolution, rendered offline."""
    import vl_convert

    return vl_convert.vegalite_to_png(spec, scale=2)


def svg_from_spec(spec: str) -> str:
    import vl_convert

    return vl_convert.vegalite_to_svg(spec)
