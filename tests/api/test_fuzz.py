"""The OpenAPI document is valid OpenAPI 3.0, and requests generated from it (schemathesis,
valid and invalid ones) never meet a server error; a bounded number of examples."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

EXAMPLES = {GenerationMode.POSITIVE: 150, GenerationMode.NEGATIVE: 100}


@pytest.fixture(scope="module")
def auth(demo):
    return {"Authorization": f"Bearer {demo['tokens']['planner']}"}


@pytest.fixture(scope="module")
def schema(app, auth):
    loaded = schemathesis.openapi.from_wsgi("/api/openapi", app, headers=auth)
    loaded.validate()  # against the OpenAPI 3.0 meta-schema; raises on any violation
    return loaded


def test_openapi_document_is_valid_and_lists_every_visible_collection(schema):
    paths = set(schema.raw_schema["paths"])
    for layer in ("tps", "kelurahan", "incidents"):
        assert {f"/collections/{layer}", f"/collections/{layer}/items",
                f"/collections/{layer}/items/{{featureId}}"} <= paths


@pytest.mark.parametrize("mode", list(EXAMPLES), ids=str)
def test_generated_requests_never_cause_a_server_error(schema, auth, mode):
    seen = {}

    @given(case=schema.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES[mode], deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        response = case.call(headers=auth)
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        assert response.status_code < 500, (case.path, case.query, response.text[:500])
        if response.status_code >= 400:
            body = response.json()
            assert body["code"] and body["description"], body
            assert "Traceback" not in response.text

    check()
    assert seen.get(200) or mode is GenerationMode.NEGATIVE, seen
