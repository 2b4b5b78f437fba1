"""Where the settings come from: the environment (and .env), the folders, the deployment kind.

Every other settings module reads its variables through ``env`` from here.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.FileAwareEnv()
if (BASE_DIR / ".env").is_file() and "ACS_SKIP_DOTENV" not in os.environ:
    environ.Env.read_env(BASE_DIR / ".env")

ENVIRONMENT = env.str("ACS_ENVIRONMENT", default="development")
if ENVIRONMENT not in {"development", "test", "production"}:
    raise ImproperlyConfigured(
        f"ACS_ENVIRONMENT must be development, test or production, not {ENVIRONMENT!r}"
    )
PRODUCTION = ENVIRONMENT == "production"

DEBUG = env.bool("DEBUG", default=ENVIRONMENT == "development")

# Where the embedded defaults keep their state (git-ignored). Tests get their own folder so a
# test run never touches the data of a running demo.
LOCAL_DIR = Path(
    env.str(
        "ACS_LOCAL_DIR",
        default=str(BASE_DIR / ".local" / ("test" if ENVIRONMENT == "test" else "")),
    )
)

# Where this system is reached from outside, for links in webhooks and e-mails.
ACS_BASE_URL = env.str("ACS_BASE_URL", default="http://localhost:8000").rstrip("/")
