"""Who is using Handoff: a member signed in through OpenID Connect, or the person at the
machine when sign-in is not configured.

Sign-in is Streamlit's own (`st.login`, `st.user`), configured by an `[auth]` section in
`.streamlit/secrets.toml` (redirect_uri, cookie_secret, client_id, client_secret,
server_metadata_url). Without one, Handoff has a single local user who owns the local
workspace, and must then listen on localhost only (`make run` does). A half-written `[auth]`
section stops the app with a message rather than falling back to the local user: a
misconfigured server must never hand out the owner's view.
"""

from __future__ import annotations

import streamlit as st

from handoff import format
from handoff.workspaces import LOCAL_USER, normalised

REQUIRED = ("redirect_uri", "cookie_secret", "client_id", "client_secret",
            "server_metadata_url")


def auth_configured() -> bool:
    """True when the secrets have an `[auth]` section (complete or not)."""
    return _auth_section() is not None


def missing_settings() -> list[str]:
    """The `[auth]` settings st.login needs that the secrets lack."""
    section = _auth_section() or {}
    return [k for k in REQUIRED if not section.get(k)]


def current_user() -> str | None:
    """The signed-in member's e-mail (lower-case), `LOCAL_USER` without sign-in configured,
    None when sign-in is configured and nobody is signed in (or the provider gave no
    verified e-mail)."""
    if not auth_configured():
        return LOCAL_USER
    if not _logged_in():
        return None
    if st.user.get("email_verified") is False:  # an address the provider has not checked
        return None
    return normalised(st.user.get("email"))


def require_sign_in() -> str:
    """The current user's e-mail; otherwise a sign-in button, and the page stops here."""
    if auth_configured() and missing_settings():
        st.error("Sign-in is half configured: the `[auth]` section of .streamlit/secrets.toml "
                 f"lacks {', '.join(missing_settings())}. Add them (see the README, \"Workspaces "
                 "and sign-in\"), or remove the section to run Handoff on this machine only.")
        st.stop()
    user = current_user()
    if user is not None:
        if auth_configured():
            with st.sidebar:
                st.caption(f"Signed in as {format.markdown_text(user)}")
                st.button("Sign out", key="auth.sign_out", on_click=st.logout)
        return user
    st.title("Handoff")
    if _logged_in():  # signed in, but without an e-mail Handoff can trust
        st.error("Your sign-in did not give Handoff a verified e-mail address, and members "
                 "are known by e-mail. Sign in with an account that has one.")
        st.button("Sign out", key="auth.sign_out", on_click=st.logout)
    else:
        st.write("Sign in to see your team's workspaces.")
        st.button("Sign in", key="auth.sign_in", type="primary", on_click=st.login)
    st.stop()
    raise AssertionError("unreachable")  # st.stop() ends the script run


def _auth_section() -> dict | None:
    if not st.secrets.load_if_toml_exists():
        return None
    section = st.secrets.get("auth")
    return section.to_dict() if hasattr(section, "to_dict") else section


def _logged_in() -> bool:
    return bool(st.user.get("is_logged_in", False))  # absent when no sign-in has happened
