"""An email backend that files messages in Redis instead of sending them.

For benchmarks, load tests and staging sites: every message is kept as a
mailbox would keep it, by Message-ID, and every delivery attempt is
counted, so a run can tell "each person got exactly one email" from "an
email was handed over twice". Set ``EMAIL_BACKEND=portal.mail.RedisCaptureBackend``
and ``EMAIL_CAPTURE_URL`` (and optionally ``EMAIL_CAPTURE_KEY``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend


class RedisCaptureBackend(BaseEmailBackend):
    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        url = settings.EMAIL_CAPTURE_URL or settings.REDIS_URL
        if not url:
            raise RuntimeError("RedisCaptureBackend needs EMAIL_CAPTURE_URL or REDIS_URL.")
        self.redis = redis.Redis.from_url(url)
        self.key = settings.EMAIL_CAPTURE_KEY

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        pipe = self.redis.pipeline(transaction=False)
        for message in email_messages:
            message_id = message.extra_headers.get("Message-ID") or message.message()["Message-ID"]
            record = json.dumps(
                {"to": message.to, "subject": message.subject, "message_id": message_id}
            )
            pipe.hset(f"{self.key}:messages", message_id, record)
            pipe.hincrby(f"{self.key}:deliveries", message_id, 1)
            pipe.incr(f"{self.key}:count")
        pipe.execute()
        return len(email_messages)


@dataclass
class Captured:
    messages: dict[str, dict[str, Any]]
    deliveries: int

    @property
    def duplicates(self) -> int:
        return self.deliveries - len(self.messages)

    def recipients(self) -> list[str]:
        return sorted(address for m in self.messages.values() for address in m["to"])


def _text(value: bytes | str) -> str:
    """A Redis key as text (a client without ``decode_responses`` gives bytes)."""
    return value.decode() if isinstance(value, bytes) else value


def read_capture(url: str, key: str) -> Captured:
    client = redis.Redis.from_url(url)
    messages = {_text(k): json.loads(v) for k, v in client.hgetall(f"{key}:messages").items()}
    return Captured(messages=messages, deliveries=int(client.get(f"{key}:count") or 0))


def clear_capture(url: str, key: str) -> None:
    redis.Redis.from_url(url).delete(f"{key}:messages", f"{key}:deliveries", f"{key}:count")
