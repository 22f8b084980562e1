"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi …`."""

from exchange.ops.startup import app_or_exit

app = app_or_exit()
