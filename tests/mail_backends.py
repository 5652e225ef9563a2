"""Email backends standing in for an SMTP server that fails (the edge of the world)."""

from smtplib import SMTPServerDisconnected

from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class RefusingBackend(LocmemBackend):
    """An SMTP server that drops every connection."""

    def send_messages(self, messages):
        raise SMTPServerDisconnected("Connection unexpectedly closed")
