"""Schemathesis generates requests from the OpenAPI document, valid and invalid ones: none of
them may make the server fail (5xx), on either database. Every operation is fuzzed as a
caller holding every business scope (admin-only routes then answer 403, which is fine)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from potok.bootstrap import bootstrap
from potok.db import migrate
from tests.conftest import LiveServer, _settings, empty_all_tables, key_for, start_server
from tests.factories import build_world

EXAMPLES = 30


def _serve(url: str) -> tuple[LiveServer, dict[str, str]]:
    potok = bootstrap(_settings(url, pool_size=10))
    migrate.upgrade(potok.engine)
    empty_all_tables(potok)
    build_world(potok, {("MSK", "KET"): 50, ("SPB", "MUG"): 50})
    secret = key_for(potok, name="fuzz")
    return start_server(potok), {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def fuzz_target(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    if backend == "postgresql":
        url: str = request.getfixturevalue("migrated_postgres")
    else:
        url = f"sqlite:///{tmp_path / 'fuzz.db'}"
    live, headers = _serve(url)
    yield live, headers
    live.stop()
    live.potok.close()


@pytest.mark.slow
def test_no_generated_request_makes_the_api_fail(
    fuzz_target: tuple[LiveServer, dict[str, str]],
) -> None:
    live, headers = fuzz_target
    schema = schemathesis.openapi.from_url(f"{live.url}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def call(case: schemathesis.Case) -> None:
                response = case.call(base_url=live.url, headers={**(case.headers or {}), **headers})
                assert response.status_code < 500, (
                    f"{case.method} {case.formatted_path} -> {response.status_code}: "
                    f"{response.text[:500]}"
                )

            try:
                call()
            except Unsatisfiable:
                # nothing invalid can be made for an operation without inputs
                assert mode is GenerationMode.NEGATIVE, operation.label
