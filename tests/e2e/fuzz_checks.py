"""Schemathesis checks of our own, loaded by the fuzz test (``SCHEMATHESIS_HOOKS``).

Schemathesis's ``positive_data_acceptance`` counts every 422 to a schema-valid request as a
mismatch, but a valid request can still break a business rule the document cannot state (an
SKU nobody sells, a cursor this list never gave out). The fuzz test lets 422 through that
check and this one fails instead on what is a real mismatch: a request the OpenAPI document
calls valid that the schema layer itself refused (pydantic's error types, or ours).
"""

from __future__ import annotations

from typing import get_args

import schemathesis
from pydantic_core.core_schema import ErrorType

SCHEMA_LAYER_CODES = frozenset(get_args(ErrorType)) | {
    "nul_character",
    "decimal_string",
    "decimal_format",
    "currency",
    "country",
    "null_not_allowed",
}


@schemathesis.check
def valid_input_passes_the_schema_layer(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    try:
        body = response.json()
    except ValueError:
        body = {}
    errors = body.get("errors") or [] if isinstance(body, dict) else []
    refused = sorted(
        f"{e.get('field')}: {e.get('code')}"
        for e in errors
        if isinstance(e, dict) and e.get("code") in SCHEMA_LAYER_CODES
    )
    if refused:
        raise AssertionError(
            "A request the OpenAPI document calls valid was refused by the request models "
            f"({'; '.join(refused)}): the document and the models disagree"
        )
    return None


@schemathesis.hook
def map_query(ctx: schemathesis.HookContext, query: dict[str, object] | None) -> object:
    """The change feed's long poll (``wait``, up to 30 s) is cut to a second: a case that
    waits the whole time would spend the fuzzing budget on nothing."""
    if query and isinstance(query.get("wait"), int | float) and query["wait"] > 1:
        return {**query, "wait": 1}
    return query
