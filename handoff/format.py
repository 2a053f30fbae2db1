"""How numbers read on screen and in downloads: money in the session's currency, percentages,
counts, days, and tables with human column names. Pure functions (no Streamlit), so every
page formats the same way and a test can check it.

A table keeps its numbers as numbers (so it still sorts) and carries a display format per
column; its CSV has the same human headers, with the unit in the header and sensible
rounding, so a spreadsheet reads it without a legend.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd

# Symbols for the currencies people export in; any other ISO code is written before the
# number ("SEK 1,200"). None: the export had no currency symbol and the user chose none.
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CNY": "CN¥",
           "KRW": "₩", "CAD": "CA$", "AUD": "A$", "NZD": "NZ$", "SGD": "S$", "HKD": "HK$",
           "BRL": "R$", "MXN": "MX$", "CHF": "CHF ", "SEK": "SEK ", "NOK": "NOK ",
           "DKK": "DKK ", "PLN": "PLN ", "ZAR": "ZAR "}
CURRENCIES = tuple(SYMBOLS)


def symbol(currency: str | None) -> str:
    if not currency:
        return ""
    return SYMBOLS.get(currency, f"{currency} ")


def _finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def money(value: object, currency: str | None, decimals: int = 0) -> str:
    """'$34,172' (or '34,172' with no currency); '—' when there is no number."""
    number = _finite(value)
    if number is None:
        return "—"
    sign = "-" if number < 0 else ""
    return f"{sign}{symbol(currency)}{abs(number):,.{decimals}f}"


def money_change(value: object, currency: str | None) -> str:
    """A signed amount, for a change on the previous period: '+$1,200', '-$300'."""
    number = _finite(value)
    if number is None:
        return "—"
    return ("+" if number >= 0 else "-") + money(abs(number), currency)


def percent(value: object, digits: int = 1) -> str:
    number = _finite(value)
    return "—" if number is None else f"{number:.{digits}%}"


def points(value: object) -> str:
    """A change between two rates, in percentage points: '+3.2 pts'."""
    number = _finite(value)
    return "—" if number is None else f"{number * 100:+.1f} pts"


def count(value: object) -> str:
    number = _finite(value)
    return "—" if number is None else f"{number:,.0f}"


def days(value: object) -> str:
    number = _finite(value)
    return "—" if number is None else f"{number:,.1f}"


def p_value(p: float) -> str:
    """'p < 0.001' rather than 'p = 0.000'."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


# Every ASCII punctuation mark Markdown gives a meaning to; a backslash makes each literal.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~$:/@&=])")


# GitHub-flavoured Markdown links bare URLs and e-mail addresses after the escapes are
# resolved, so a backslash cannot stop it; an invisible word joiner inside "://", "www." and
# "@" does, and leaves the text looking exactly as it was.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)", re.IGNORECASE)
WORD_JOINER = "\u2060"


def markdown_text(text: str) -> str:
    """User text (a file, stage or rep name, a value, a message quoting them) shown inside
    Markdown as it is: no links, images, HTML, colour directives or formulas made of it."""
    flat = " ".join(str(text).replace(WORD_JOINER, "").split())
    return _MARKDOWN.sub(r"\\\1", _AUTOLINK.sub(WORD_JOINER, flat))


# --- tables -----------------------------------------------------------------------------------

# kind -> (display format, CSV rounding, CSV header suffix, CSV scale)
_KINDS: dict[str, tuple[str, int | None, str, float]] = {
    "count": ("%,d", 0, "", 1.0),
    "number": ("%,.1f", 2, "", 1.0),
    "pct": ("%.1f%%", 2, " (%)", 1.0),  # stored ×100 by table(): '44.8%' everywhere
    "points": ("%+.1f pts", 2, " (points)", 1.0),  # stored ×100 by table()
    "days": ("%,.1f", 1, "", 1.0),
    "hours": ("%,.0f", 1, "", 1.0),
    "ratio": ("%.2f×", 3, "", 1.0),
    "money": ("", 2, "", 1.0),  # format depends on the currency
}
COUNT_FORMAT = _KINDS["count"][0]  # for a count column of a table built by hand
TEXT_KINDS = ("text", "month", "date")
NUMBER_KINDS = tuple(_KINDS)


@dataclass(frozen=True)
class Table:
    """A table ready to show: human headers, numbers as numbers, a format per column."""

    frame: pd.DataFrame
    kinds: dict[str, str]  # header -> kind
    currency: str | None = None

    def _gappy(self, header: str) -> bool:
        """A numeric column with missing values: Streamlit's grid writes 'None' in them, so
        such a column is shown as text, with '—' where there is no number."""
        return self.kinds[header] in _KINDS and bool(self.frame[header].isna().any())

    def display(self) -> pd.DataFrame:
        """The frame to put on screen (numbers stay numbers where every row has one)."""
        out = self.frame.copy()
        for header, kind in self.kinds.items():
            if self._gappy(header):
                out[header] = [self.cell(kind, v) for v in out[header]]
        return out

    def cell(self, kind: str, value: object) -> str:
        """One number as text, the way its column's format shows it."""
        number = _finite(value)
        if number is None:
            return "—"
        return {"count": f"{number:,.0f}", "number": f"{number:,.1f}", "pct": f"{number:.1f}%",
                "points": f"{number:+.1f} pts", "days": f"{number:,.1f}",
                "hours": f"{number:,.0f}", "ratio": f"{number:.2f}×",
                "money": money(number, self.currency)}[kind]

    def formats(self) -> dict[str, str]:
        """Header -> the display format of each numeric column (printf or a named one)."""
        out = {}
        for header, kind in self.kinds.items():
            if self._gappy(header):
                continue
            if kind == "money":
                out[header] = symbol(self.currency).replace("%", "%%") + "%,.0f"
            elif kind in _KINDS:
                out[header] = _KINDS[kind][0]
        return out

    def csv_frame(self) -> pd.DataFrame:
        """The download: the unit in each header, percentages as percent, sensible rounding."""
        out = self.frame.copy()
        names = {}
        for header, kind in self.kinds.items():
            if kind in _KINDS:
                _, digits, suffix, scale = _KINDS[kind]
                column = pd.to_numeric(out[header], errors="coerce") * scale
                out[header] = column.round(digits) if digits is not None else column
                if kind == "count":  # 12, not 12.0; a missing count stays an empty cell
                    out[header] = out[header].astype("Int64")
                if kind == "money" and self.currency:
                    suffix = f" ({self.currency})"
                names[header] = header + suffix
            elif kind == "trend":
                out = out.drop(columns=header)
        return out.rename(columns=names)


def table(frame: pd.DataFrame, columns: dict[str, tuple[str, str]],
          currency: str | None = None) -> Table:
    """Only the listed columns, in this order, under their labels, with their kinds.

    `columns` maps a source column to (label, kind); kind is one of count, number, pct,
    points, days, hours, ratio, money, text, month, date, trend (pct and points are kept
    ×100, as they read: 44.8 for 44.8%) (a list per row, drawn as
    a small line; left out of the CSV). Source columns that are absent
    are skipped, so one spec serves tables with and without optional columns.
    """
    out, kinds = {}, {}
    for source, (label, kind) in columns.items():
        if source not in frame.columns:
            continue
        values = frame[source]
        if kind in _KINDS:
            values = pd.to_numeric(values, errors="coerce")
            if kind in ("points", "pct"):
                values = values * 100
        elif kind in ("month", "date"):
            stamps = pd.to_datetime(values, errors="coerce")
            values = stamps.dt.strftime("%b %Y" if kind == "month" else "%Y-%m-%d")
            values = values.where(stamps.notna(), "—")
            kind = "text"
        elif kind == "text":
            values = values.astype("object").where(values.notna(), "—").astype(str)
        out[label] = values.reset_index(drop=True)
        kinds[label] = kind
    return Table(pd.DataFrame(out), kinds, currency)
