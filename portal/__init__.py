"""Local Tenders: the project package (settings, URLs, Celery app, cross-cutting pieces)."""

from portal.celery import app as celery_app

__all__ = ("celery_app",)
