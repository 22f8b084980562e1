"""Schemathesis against the app's own OpenAPI description: shared by the suite and `make fuzz`.

Every generated request is sent with a real access token of one role, and its answer is
held to the description (documented status, content type, headers and body schema) and
to "never a 5xx". Then the very same request is sent without a token: every operation the
description marks as secured must answer 401 `invalid-token`, whatever else is wrong with
the request, so authentication can never be skipped by an odd input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

PROBLEM = "application/problem+json"
INVALID_TOKEN = "urn:hotline:problem:invalid-token"
OPERATIONAL_STATUSES = {429, 503}  # any route: rate limits, database unavailable
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass(frozen=True)
class Budget:
    """How hard to fuzz: examples per operation and generation mode."""

    max_examples: int
    derandomize: bool
    seed: int | None = None


IN_SUITE = Budget(max_examples=12, derandomize=True)


def settings(budget: Budget) -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=budget.max_examples,
        deadline=None,
        derandomize=budget.derandomize,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.target],  # a failure is reported unshrunk
        report_multiple_bugs=False,
    )


def load(app: Any) -> Any:
    """The live description, loaded through the app itself (in-process WSGI)."""
    return schemathesis.openapi.from_wsgi("/v1/openapi.json", app)


def load_url(url: str) -> Any:
    """The description of a running server; cases are then sent to it over HTTP."""
    return schemathesis.openapi.from_url(url)


def _seeded(test: Callable[..., None], budget: Budget) -> Callable[..., None]:
    return hypothesis.seed(budget.seed)(test) if budget.seed is not None else test


def operations(schema: Any) -> list[Any]:
    found = [result.ok() for result in schema.get_all_operations()]
    assert found, "the description has no operations"
    return found


def is_secured(operation: Any) -> bool:
    return bool(operation.definition.raw.get("security"))


def _strategies(operation: Any, known: Mapping[str, list[str]]) -> Iterable[Any]:
    """Positive and negative requests; those with path parameters also on ids that exist."""
    parameters = [p.name for p in operation.path_parameters]
    modes = [GenerationMode.POSITIVE]
    if any((operation.path_parameters, operation.query, operation.headers, operation.body)):
        modes.append(GenerationMode.NEGATIVE)  # nothing to get wrong otherwise
    for mode in modes:
        yield operation.as_strategy(generation_mode=mode)
        if parameters and all(known.get(name) for name in parameters):
            yield st.fixed_dictionaries(
                {name: st.sampled_from(known[name]) for name in parameters}
            ).flatmap(
                lambda fixed, mode=mode: operation.as_strategy(
                    generation_mode=mode, path_parameters=fixed
                )
            )


def _without_auth(case: Any) -> None:
    if case.headers:
        for name in [n for n in case.headers if n.lower() == "authorization"]:
            del case.headers[name]


def check_case(case: Any, token: str | None) -> None:
    """Send with the token: conforming answer. Send again without: 401 where secured."""
    _without_auth(case)
    headers = {"Authorization": f"Bearer {token}"} if token else None
    response = case.call(headers=headers)
    case.validate_response(response, checks=CHECKS, headers=headers)
    # `default` (a problem) stands for the statuses any route may give; every other status
    # must be listed by the operation itself, or the description is not the inventory.
    if response.status_code not in OPERATIONAL_STATUSES:
        documented = case.operation.definition.raw["responses"]
        assert str(response.status_code) in documented, (case.operation.label, response.status_code)
    if token and is_secured(case.operation):
        bare = case.call()
        assert bare.status_code == 401, (case.as_curl_command(), bare.status_code, bare.text)
        assert bare.headers["content-type"] == [PROBLEM]
        assert bare.json()["type"] == INVALID_TOKEN


Token = Callable[[], str | None]


def fuzz(
    schema: Any,
    token: Token,
    budget: Budget,
    known: Mapping[str, list[str]],
    check: Callable[[Any, str | None], None] = check_case,
) -> int:
    """Fuzz every operation with the token `token()` gives; return how many strategies ran."""
    ran = 0
    for operation in operations(schema):
        for strategy in _strategies(operation, known):

            @given(case=strategy)
            @settings(budget)
            def run(case: Any) -> None:
                check(case, token())

            _seeded(run, budget)()
            ran += 1
    return ran


def cross_organisation(
    schema: Any,
    owner: Token,
    strangers: Iterable[Token],
    budget: Budget,
    owned: Mapping[str, str],
) -> list[str]:
    """Every GET operation whose path names an id the owner's organisation created, with
    everything else generated: 200 for the owner, the 404 of a missing one for strangers.
    Return the operations checked."""
    checked = []
    for operation in operations(schema):
        names = [p.name for p in operation.path_parameters]
        if operation.method.upper() != "GET" or not names or not set(names) <= set(owned):
            continue
        fixed = {name: owned[name] for name in names}

        @given(case=operation.as_strategy(path_parameters=fixed))
        @settings(budget)
        def run(case: Any) -> None:
            _without_auth(case)
            mine = case.call(headers={"Authorization": f"Bearer {owner()}"})
            if mine.status_code != 200:
                return  # a generated query the owner is refused too: nothing to compare
            for stranger in strangers:
                theirs = case.call(headers={"Authorization": f"Bearer {stranger()}"})
                assert theirs.status_code == 404, (case.as_curl_command(), theirs.text)
                assert theirs.json()["type"] == "urn:hotline:problem:not-found"

        _seeded(run, budget)()
        checked.append(operation.label)
    return checked
