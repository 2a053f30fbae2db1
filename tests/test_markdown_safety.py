"""Text from an upload is data, never Markdown: the static check over the app's own code, and
checks of the checker on code that must and must not pass."""

from __future__ import annotations

import re

import pytest

from handoff import format
from tests.conftest import ROOT
from tests.markdown_safety import Checker, project_sources


def test_no_user_text_reaches_markdown_without_the_escaper():
    findings = Checker(project_sources(ROOT)).findings()
    assert not findings, "escape with format.markdown_text:\n" + "\n".join(map(str, findings))


def _findings(code: str) -> list[str]:
    return [f.text for f in Checker({"m.py": code}).findings()]


@pytest.mark.parametrize("code", [
    "st.markdown(upload.name)",
    "st.caption(f'Loaded {db.name}')",
    "st.warning('Files: ' + ', '.join(s.file_name for s in sources))",
    "st.error(f'{what} failed: {e}')",
    "col.metric(label=row.stage, value='1')",
    "st.metric('Won', '1', help=f'from {name}')",
    "st.tabs([t for t in stage_names])",
    "st.radio('Stage', stages, format_func=lambda s: s.title())",
    "st.expander(str(stage))",
    "st.sidebar.info(note)",
    "for note in notes:\n    st.caption(note)",
    "x = row.owner\nst.subheader(x)",
    "def show(text):\n    st.markdown(text)\nshow(upload.name)",
    "def label(r):\n    return r.name\nst.markdown(label(r))",
    "st.markdown(f'{name!r:>10}')",  # a conversion: not a number format
    "getattr(st, kind)(message)",
    "a, b = upload.name, 'x'\nst.markdown(a)",
    "def label(x):\n    return 'safe'\nfor label in names:\n    st.caption(label)",
])
def test_the_checker_finds_user_text(code):
    assert _findings(code), code


@pytest.mark.parametrize("code", [
    "st.markdown('**Funnel**')",
    "st.caption(f'{n:,} rows in {format.markdown_text(upload.name)}')",
    "st.warning('Files: ' + format.markdown_text(', '.join(names)))",
    "st.metric('Win rate', format.percent(rate), help='Won ÷ closed.')",
    "st.tabs(['Chart', 'Table'])",
    "st.radio('View', VIEWS, format_func=VIEW_LABELS.get)",
    "st.radio('Layout', ['a', 'b'], format_func=lambda v: {'a': 'A', 'b': 'B'}[v])",
    "for name in ('Marketing', 'Sales'):\n    st.subheader(name)",
    "def show(text):\n    st.markdown(text)\nshow('constant')",
    "def label(x):\n    return f'{x:.0%}'\nst.radio('Share', [0.5], format_func=label)",
    "log.info(upload.name)",  # not Streamlit
])
def test_the_checker_passes_safe_text(code):
    assert not _findings(code), code


@pytest.mark.parametrize("payload", [
    "![x](http://evil.example/pixel.png)",
    "[Session expired: sign in again](http://evil.example/)",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "http://evil.example/ and www.evil.example",
    "write to phish@evil.example",
    ":red[alarm] $x^2$ **bold** `code` # heading",
])
def test_the_escaper_leaves_no_markdown_syntax(payload):
    escaped = format.markdown_text(payload)
    unescaped = re.sub(r"\\.", "", escaped)  # what is left outside backslash escapes
    assert not set(unescaped) & set("`*_[]()<>!:/$#~|@&=.")
    # the text Markdown shows once the escapes are resolved: no bare URL or e-mail to link
    shown = re.sub(r"\\(.)", r"\1", escaped)
    assert not re.search(r"(?i)https?://|www\.|@\w", shown)
    # and it reads as it was: every character there, plus invisible word joiners
    assert shown.replace(format.WORD_JOINER, "") == payload
