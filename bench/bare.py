"""The ceiling: a bare Flask endpoint that parses the same JSON body and answers 201.

Served by gunicorn with the same settings as the exchange, so that the ratio of the two
measures the exchange's own work, not the machine or the server setup.
"""

from flask import Flask, request

app = Flask(__name__)


@app.post("/bare")
def bare() -> tuple[dict[str, str], int]:
    document = request.get_json()
    return {"received": str(type(document).__name__)}, 201


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
