"""schemathesis against both OpenAPI documents, as a public fuzzer would run it but signed
in as an admin (an API token), so it reaches past 401: no generated request may get a 5xx.

Every operation gets data that fits its schema and data that does not (positive and
negative), derandomized so a run is repeatable. The score stream never ends, so it is left
out here and tested apart (ratings/test_score_stream_limits.py). The examples per operation
keep both documents under a minute on two cores."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from harness.stack import Stack

# schemathesis' own strategies draw from `random`; Hypothesis warns once per operation.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies")

#: Examples per operation. Ratings' document has about 45 operations, ingest's 10: about
#: 1,200 requests, 30 s on two idle cores, 45 s when they are shared.
RATINGS_EXAMPLES = 20
INGEST_EXAMPLES = 30
#: The endless SSE streams, tested apart (test_score_stream_limits.py, test_share_links_stream.py).
ENDLESS = ["/v1/scores/stream", "/v1/share-links/stream"]
ASSET = "fuzz-deck"


@dataclass
class Run:
    """What one document's fuzzing saw: every 5xx (as a curl command that repeats it), and
    how many answers of each class (2xx, 4xx...) each operation got."""

    server_errors: list[str] = field(default_factory=list)
    answers: dict[str, Counter[str]] = field(default_factory=dict)

    def reached(self, status_class: str) -> list[str]:
        return [label for label, seen in self.answers.items() if seen[status_class]]


def _fuzz(schema_url: str, sign_in: Callable[[], dict[str, str]], examples: int) -> Run:
    """Blocking: run it in a thread while the services answer in the event loop. Each
    operation signs in afresh: one that revokes tokens must not blind the others."""
    schema = schemathesis.openapi.from_url(schema_url).exclude(path=ENDLESS)
    run = Run()
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            raise result.err()  # an operation it cannot read: the document is broken
        _operation_test(result.ok(), sign_in(), run, examples)()
    return run


def _operation_test(operation: Any, headers: dict[str, str], run: Run,
                    examples: int) -> Callable[[], None]:
    seen = run.answers.setdefault(operation.label, Counter())
    strategies = [operation.as_strategy(GenerationMode.POSITIVE),
                  operation.as_strategy(GenerationMode.NEGATIVE)]
    if "asset_id" in operation.path:
        # Random ids name no asset (404): a third of the cases name one that exists.
        strategies.append(operation.as_strategy(path_parameters={"asset_id": ASSET}))
    cases = st.one_of(strategies)

    @hypothesis.settings(max_examples=examples, deadline=None, database=None,
                         derandomize=True, phases=[Phase.explicit, Phase.generate],
                         suppress_health_check=list(HealthCheck))
    @hypothesis.given(case=cases)
    def call(case: Any) -> None:
        response = case.call(headers=headers, timeout=15)
        seen[f"{response.status_code // 100}xx"] += 1
        if response.status_code >= 500:
            run.server_errors.append(f"{response.status_code} "
                                     f"{case.as_curl_command(headers)}\n"
                                     f"    {response.text[:300]}")

    return call  # type: ignore[no-any-return]


async def test_no_generated_request_gets_a_server_error_from_ratings_or_ingest(
    stack: Stack,
) -> None:
    await stack.add_asset(ASSET, type="deck")
    ingest = await stack.ingest()
    ratings = await stack.ratings()
    loop = asyncio.get_running_loop()

    def as_admin() -> dict[str, str]:
        """A new API token (every scope) of the fuzzing admin, made from the fuzz thread."""
        made = asyncio.run_coroutine_threadsafe(stack.user("fuzzer@example.com", "admin"), loop)
        return {"authorization": f"Bearer {made.result(30)[1]}"}

    app = await asyncio.to_thread(_fuzz, f"{ratings.url}/openapi.json", as_admin,
                                  RATINGS_EXAMPLES)
    edge = await asyncio.to_thread(_fuzz, f"{ingest.url}/openapi.json", dict, INGEST_EXAMPLES)
    # Signed in as an admin, it got past 401 and 403: even admin-only reads answered.
    assert {"GET /v1/users", "GET /v1/ingest-keys", "GET /v1/scores"} <= set(app.reached("2xx"))
    assert "GET /px.gif" in edge.reached("2xx")
    assert not app.server_errors + edge.server_errors, "\n".join(
        app.server_errors + edge.server_errors)
