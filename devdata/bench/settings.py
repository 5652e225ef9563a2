"""Settings for the portal that ``bench pages`` and ``bench deadline_rush`` start
under gunicorn: the project's own settings, with the benchmark's URLconf (the
project's URLs plus the baseline page). Refused in production mode."""

from portal.settings import *  # noqa: F403
from portal.settings import PRODUCTION

if PRODUCTION:
    from portal.config import ConfigurationError

    raise ConfigurationError(
        "DJANGO_SETTINGS_MODULE", "portal.settings in production (benchmarks never run there)"
    )

ROOT_URLCONF = "devdata.bench.urls"
