"""Assertions on RFC 9457 problem documents, shared by the end-to-end tests."""

from __future__ import annotations

from typing import Any

import httpx


def problem_of_type(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The problem document of ``response``, after checking its status, media type and `type`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"].endswith("/" + code), body
    return body


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """As :func:`problem_of_type`, and the body's own `code` and `status` too."""
    body = problem_of_type(response, status, code)
    assert (body["code"], body["status"]) == (code, status), body
    return body


def field_codes(body: dict[str, Any]) -> dict[str, str]:
    """Field name to error code, from a problem's `errors`."""
    return {e["field"]: e["code"] for e in body["errors"]}
