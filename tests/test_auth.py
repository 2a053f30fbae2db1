"""The sign-in gate without a browser: the local user without [auth], a sign-in button and
nothing else with it, a message (never the local owner's view) for a half-written [auth]."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from handoff.workspaces import LOCAL_USER

COMPLETE = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s" * 32,
            "client_id": "handoff", "client_secret": "x",
            "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}


def gated_page() -> None:
    import streamlit as st

    from handoff import auth

    st.write(f"page for {auth.require_sign_in()}")


def run(auth: dict | None) -> AppTest:
    at = AppTest.from_function(gated_page, default_timeout=30)
    if auth is not None:
        at.secrets["auth"] = auth
    return at.run()


def test_without_auth_the_local_user_is_let_in():
    at = run(None)
    assert [m.value for m in at.markdown] == [f"page for {LOCAL_USER}"]
    assert not at.button and not at.exception


def test_with_auth_a_visitor_gets_a_sign_in_button_and_nothing_else():
    at = run(COMPLETE)
    assert [b.label for b in at.button] == ["Sign in"]
    assert not any("page for" in m.value for m in at.markdown)
    assert not at.error and not at.exception


def test_a_half_written_auth_section_stops_with_what_is_missing():
    at = run({k: v for k, v in COMPLETE.items() if k not in ("client_secret", "cookie_secret")})
    assert [e.value for e in at.error] == [
        "Sign-in is half configured: the `[auth]` section of .streamlit/secrets.toml lacks "
        "cookie_secret, client_secret. Add them (see the README, \"Workspaces and sign-in\"), "
        "or remove the section to run Handoff on this machine only."]
    assert not any("page for" in m.value for m in at.markdown) and not at.button
