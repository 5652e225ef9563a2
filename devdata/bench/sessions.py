"""Signed-in sessions for benchmark clients, written straight to the session
store: no sign-in form, so a second factor added to it later does not break
the benchmarks. Council staff's sessions carry django-otp's device key (their
confirmed authenticator app), as after the second step of signing in."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django_otp import DEVICE_ID_SESSION_KEY

from portal import two_factor
from portal.models import User

BACKEND = "django.contrib.auth.backends.ModelBackend"


def session_for(user: User) -> str:
    """A new session key in which ``user`` is signed in."""
    session: SessionBase = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = BACKEND
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if two_factor.needs_two_factor(user):
        session[DEVICE_ID_SESSION_KEY] = two_factor.give_authenticator(user).persistent_id
    session.create()
    key = session.session_key
    if key is None:  # create() saves the session under a new key: never so
        raise RuntimeError("The session store did not give the new session a key.")
    return key


def cookie_for(user: User) -> str:
    """The ``Cookie`` header value of a client signed in as ``user``."""
    return f"{settings.SESSION_COOKIE_NAME}={session_for(user)}"
