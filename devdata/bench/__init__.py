"""Benchmarks run by ``python manage.py bench <name>`` (never by the test suite)."""
