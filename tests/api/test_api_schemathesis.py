"""Property-based fuzzing of every operation with schemathesis, against the OpenAPI document.

Each operation gets a bounded number of generated requests, valid and
invalid, sent as a user whose role may perform it (so the calls reach past
the permission check into the services). No answer may be a server error,
and every answer must be declared: its status, its content type, its headers
and its body must match the document. Invalid payloads must be refused.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup, as_reported_failure
from schemathesis.core.result import Err
from schemathesis.pytest.lazy import get_all_tests
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from inprocess import AsgiClient
from resguardo.api import create_app
from resguardo.config import Settings
from resguardo.domain.policy import PERMISSIONS, Action
from resguardo.services.app import Resguardo
from resguardo.services.auth import AuthSettings

from world import PASSWORD, USERS, build_world

MAX_EXAMPLES = 5
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, negative_data_rejection]

#: Hypothesis's settings for each operation's generated requests.
EXAMPLES = settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="session")
def api_schema():  # type: ignore[no-untyped-def]
    """The document does not depend on the database: built once, unconnected."""
    doc = create_app(Resguardo(dataclasses.replace(Settings.from_env(),
                                                   database_url="sqlite:///:memory:")),
                     webhooks=False).openapi()
    loaded = schemathesis.openapi.from_dict(doc)
    loaded.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE,
                                           schemathesis.GenerationMode.NEGATIVE])
    # The coverage phase sends every boundary value of every field (hundreds of requests
    # per operation); the suite keeps to a bounded number of generated examples instead.
    loaded.config.phases.coverage.enabled = False
    return loaded


#: who sends each operation: the first of these whose role may perform it
SENDERS = ("armero1", "jefe1", "supervisor", "inspector", "auditor", "admin")


class Target:
    """The test world on SQLite, an in-process client and a token per sender."""

    def __init__(self, tmp) -> None:  # type: ignore[no-untyped-def]
        self.world = build_world(f"sqlite:///{tmp / 'fuzz.db'}",
                                 lambda: datetime(2025, 3, 3, 8, 0, tzinfo=UTC), tmp)
        app = create_app(self.world, auth_settings=AuthSettings(address_limit=10_000),
                         webhooks=False)
        self.client = AsgiClient(app, raise_server_exceptions=False, address="fuzzer", port=1)
        self.tokens = {}
        for user in SENDERS:
            r = self.request("POST", "/api/v1/auth/token",
                             json={"username": user, "password": PASSWORD})
            self.tokens[user] = r.json()["access_token"]

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, url, **kwargs)

    def sender(self, action: str) -> str:
        if action == "none":
            return SENDERS[0]
        for user in SENDERS:
            role = USERS[user][0] if user in USERS else "admin"
            if Action(action) in PERMISSIONS[role]:  # type: ignore[index]
                return user
        return SENDERS[-1]

    def close(self) -> None:
        self.client.close()
        self.world.engine.dispose()


@pytest.fixture(scope="module")
def target(tmp_path_factory):  # type: ignore[no-untyped-def]
    made = Target(tmp_path_factory.mktemp("fuzz"))
    yield made
    made.close()


@pytest.mark.long
def test_every_operation_answers_as_documented(api_schema, target, subtests):
    """Each operation of the document is a subtest (reported under its method and path).

    The schema is a fixture, not built at import: the OpenAPI document costs seconds to
    build, and at import every process that collects the suite (pytest-xdist) paid for it,
    whichever one ran the test. (schemathesis's own lazy loader, ``from_fixture``, sets a
    node attribute that pytest 9 no longer has.)
    """
    operations = list(get_all_tests(schema=api_schema, test_func=answers_as_documented,
                                    settings=EXAMPLES, given_kwargs={}))
    assert len(operations) >= 60
    for result in operations:
        if isinstance(result, Err):  # an operation the document cannot describe
            with subtests.test(msg=str(result.err())):
                raise result.err()
            continue
        operation, sub_test = result.ok()
        with subtests.test(msg=f"{operation.method.upper()} {operation.path}"):
            try:
                sub_test(target=target)
            except FailureGroup as failures:
                raise as_reported_failure(failures) from None


def answers_as_documented(case, target):  # type: ignore[no-untyped-def]
    action = case.operation.definition.raw.get("x-resguardo-action", "none")
    user = target.sender(action)
    kwargs = case.as_transport_kwargs(base_url="http://testserver",
                                      headers={"Authorization": f"Bearer {target.tokens[user]}"})
    kwargs.pop("cookies", None)
    # headers go on the wire as bytes; generated ones may hold any character
    kwargs["headers"] = {k: v.encode("utf-8") if isinstance(v, str) else v
                         for k, v in kwargs.get("headers", {}).items()}
    if isinstance(kwargs.get("data"), bytes | str):
        kwargs["content"] = kwargs.pop("data")
    response = target.request(kwargs.pop("method"), kwargs.pop("url"), **kwargs)
    case.validate_response(response, checks=CHECKS)
