"""schemathesis against /api/openapi.json through Traefik: no route answers 5xx.

Cases are generated from the published document, valid and invalid, with an ADMIN
token so that every route is reached past authentication.
"""

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings

# One test for every route of the document (schemathesis reads it from the running
# stack, so the routes are subtests of one test): its time grows with the API.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]


@pytest.fixture(scope="session")
def api_schema(stack):
    return schemathesis.openapi.from_url(stack.url("/api/openapi.json"))


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(scope="session")
def http_session():
    # One keep-alive connection for every case, rather than one connection each.
    with requests.Session() as session:
        yield session


@schema.parametrize()
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_route_fails_with_a_server_error(case, admin, stack, http_session):
    token = admin.token
    if case.formatted_path == "/api/auth/logout":
        # Logging out would end the session the other cases use: give it its own.
        token = admin.login(stack.admin_email, stack.admin_password).token
    response = case.call(
        session=http_session, headers={"Authorization": f"Bearer {token}"}, timeout=15
    )
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: "
        f"{response.text[:300]}"
    )
