"""Start-up failures as one line that says what to set, not a traceback.

`wsgi.py` builds the app through `app_or_exit()`, so `flask --app wsgi admin …` (even
`--help`), `flask run` and gunicorn all explain a missing or wrong setting the same way
and exit 2 (a usage error), before any request is served.
"""

import sys
from typing import NoReturn

from flask import Flask

from exchange.config import ConfigError
from keys import KeyStoreError

# Where a development checkout keeps its settings (`make run` writes it).
DEV_ENV_HINT = "for the development server, run `. instance/dev.env` first (`make run` writes it)"


# gunicorn's exit code for "the application could not be loaded": its master then stops,
# rather than restarting workers that would fail the same way.
GUNICORN_APP_LOAD_ERROR = 4


def refuse_to_start(reason: str) -> NoReturn:
    print(f"error: the exchange cannot start: {reason}; {DEV_ENV_HINT}", file=sys.stderr)
    under_gunicorn = "gunicorn.arbiter" in sys.modules
    raise SystemExit(GUNICORN_APP_LOAD_ERROR if under_gunicorn else 2)


def app_or_exit() -> Flask:
    """The application, or exit 2 with one line naming the setting at fault."""
    from exchange import create_app

    try:
        return create_app()
    except ConfigError as exc:
        refuse_to_start(str(exc))
    except KeyStoreError as exc:
        refuse_to_start(f"the server keys cannot be opened: {exc}")
