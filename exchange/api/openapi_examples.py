"""Examples and the problem catalogue in the OpenAPI description, for the docs page.

The request examples are real documents: the case envelope is the envelope template
sealed with throwaway keys when the app starts, so it passes the same schema checks as
any client's (the server then refuses it only for its unknown signer). Summaries lose
their markdown code marks (viewers show summaries as plain text). The problem types are
listed in the description's introduction as a table, since Swagger UI does
not render the `x-problem-types` extension.
"""

from typing import Any

from flask_smorest import Api

from exchange.api.problems import catalogue
from exchange.protocol import envelope as env
from exchange.protocol.envelope.templates import template
from keys import Identity
from schemas.enums import Kind

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
EXAMPLE_CODE = "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY"


def case_envelope() -> dict[str, Any]:
    """The case template, sealed to a throwaway platform key by a throwaway agency key."""
    sender, platform = Identity.generate(), Identity.generate()
    record = template(Kind.CASE)
    record["sender"]["kid"] = sender.signing_kid
    sealed = env.seal(record, sender.signing_key, [platform.encryption_key.public_key()])
    return sealed.to_json()


def request_examples() -> dict[tuple[str, str], tuple[str, Any]]:
    """(path, method) → (media type, example request body)."""
    return {
        ("/v1/token", "post"): (
            "application/x-www-form-urlencoded",
            {
                "grant_type": "client_credentials",
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": "<a JWT signed with your Ed25519 key (RFC 7523)>",
            },
        ),
        ("/v1/enroll/invitation", "post"): ("application/json", {"code": EXAMPLE_CODE}),
        ("/v1/cases", "post"): ("application/json", case_envelope()),
    }


def _problem_table() -> str:
    rows = [
        f"| `{uri.rsplit(':', 1)[-1]}` | {entry['status']} | {entry['title']} |"
        for uri, entry in catalogue().items()
    ]
    return (
        f"\n\n<details><summary>The {len(rows)} problem types</summary>\n\n"
        "Every refusal is `application/problem+json` (RFC 9457) with `type`"
        " `urn:hotline:problem:<slug>`:\n\n| slug | status | title |\n|---|---|---|\n"
        + "\n".join(rows)
        + "\n\n</details>"
    )


def init_api(api: Api) -> None:
    """Add the examples and the problem table; call after every blueprint is registered."""
    paths: dict[str, dict[str, Any]] = api.spec._paths
    for (path, method), (media_type, example) in request_examples().items():
        operation = paths.get(path, {}).get(method)
        if operation is None:
            continue
        content = operation.setdefault("requestBody", {}).setdefault("content", {})
        content.setdefault(media_type, {})["example"] = example
    for operations in paths.values():
        for operation in operations.values():
            summary = operation.get("summary") if isinstance(operation, dict) else None
            if summary:
                # A summary is plain text in every viewer: markdown code marks would show.
                operation["summary"] = " ".join(summary.replace("`", "").split())
    info = api.spec.options.setdefault("info", {})
    info["description"] = info.get("description", "") + _problem_table()
