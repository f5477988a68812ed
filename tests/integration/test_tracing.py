"""One request followed through the whole platform by its id: Traefik, auth's
ForwardAuth, the gateway, the service it calls, the services that consume the
event it publishes, and the push a browser receives; and Traefik's health checks
of the processes behind it."""

import json
import os
import re
import signal
import uuid

import pytest
import requests

from harness.clients import ws_connect, ws_receive
from harness.polling import eventually

pytestmark = pytest.mark.integration

MADE = re.compile(r"[0-9a-f]{32}")


def request_id() -> str:
    return f"trace-{uuid.uuid4().hex}"


def test_a_request_without_an_id_gets_one_made(stack):
    response = requests.get(stack.url("/api/health"), timeout=15)
    assert response.status_code == 200
    assert MADE.fullmatch(response.headers["X-Request-Id"])


def test_a_clients_id_comes_back(stack):
    sent = request_id()
    response = requests.get(
        stack.url("/api/health"), headers={"X-Request-Id": sent}, timeout=15
    )
    assert response.headers["X-Request-Id"] == sent


def test_a_clients_unusable_id_is_replaced(new_user):
    _, client = new_user()
    response = client.get("/api/devices", headers={"X-Request-Id": "no spaces, no"})
    assert response.status_code == 200
    assert MADE.fullmatch(response.headers["X-Request-Id"])


def test_errors_carry_the_id_in_their_body(stack, new_user):
    _, client = new_user()
    sent = request_id()
    missing = client.get("/api/devices/nowhere", headers={"X-Request-Id": sent})
    assert missing.status_code == 404
    assert missing.json()["request_id"] == sent == missing.headers["X-Request-Id"]
    invalid = client.post(
        "/api/devices", {"kind": "toaster"}, headers={"X-Request-Id": sent}
    )
    assert invalid.status_code == 400
    assert invalid.json()["request_id"] == sent
    assert set(invalid.json()) == {"error", "message", "details", "request_id"}
    # Refused by ForwardAuth: auth answers, and names the request too.
    refused = requests.get(stack.url("/api/devices"), timeout=15)
    assert refused.status_code == 401
    made = refused.headers["X-Request-Id"]
    assert MADE.fullmatch(made) and refused.json()["request_id"] == made


def logged(stack, name: str, text: str) -> bool:
    return text in stack.log(name)


def test_one_request_in_the_logs_of_every_process_it_reached(stack, new_user):
    _, client = new_user()
    sent = request_id()
    created = client.post(
        "/api/devices",
        {"name": "Traced", "kind": "meter", "max_hourly_kwh": 1.0},
        headers={"X-Request-Id": sent},
    )
    assert created.status_code == 201, created.text
    # Traefik's access log, auth (ForwardAuth), the gateway, devices (the RPC),
    # and monitoring and alarms, which consume the device.created it published.
    for name in ("traefik", "auth", "gateway", "devices", "monitoring", "alarms"):
        assert eventually(lambda name=name: logged(stack, name, sent), timeout=15), (
            f"{name} never logged {sent}:\n{stack.log(name)[-2000:]}"
        )
    assert f"[{sent}]: ran devices.create_device" in stack.log("devices")


def test_without_a_client_id_auth_and_the_gateway_log_the_same_made_one(
    stack, new_user
):
    _, client = new_user()
    response = client.get("/api/devices")
    made = response.headers["X-Request-Id"]
    assert MADE.fullmatch(made)
    for name in ("auth", "gateway", "devices"):
        assert eventually(lambda name=name: logged(stack, name, made), timeout=15), (
            f"{name} never logged {made}"
        )


@pytest.fixture
def appliance(new_user):
    """A switchable device of a fresh account: ``(device, client)``."""
    _, client = new_user()
    created = client.post("/api/devices", {"name": "Kettle", "kind": "appliance"})
    assert created.status_code == 201, created.text
    return created.json(), client


def test_the_push_of_a_command_sent_over_http_carries_its_id(stack, appliance):
    created, client = appliance
    socket = ws_connect(stack, client.token)
    try:
        sent = request_id()
        response = client.post(
            f"/api/devices/{created['id']}/commands",
            {"type": "switch", "params": {"on": True}, "ttl_s": 30},
            headers={"X-Request-Id": sent},
        )
        assert response.status_code == 202, response.text
        update = ws_receive(socket, "command.updated")
        assert update is not None
        assert update["data"]["id"] == response.json()["id"]
        assert update["request_id"] == sent
    finally:
        socket.close()


def test_a_command_sent_over_the_socket_has_an_id_of_its_own(stack, appliance):
    created, client = appliance
    socket = ws_connect(stack, client.token)
    try:
        data = {"device_id": created["id"], "type": "switch", "params": {"on": True}}
        socket.send(json.dumps({"type": "command.send", "ref": "r1", "data": data}))
        answer = ws_receive(socket, "command.accepted")
        assert answer is not None, "no command.accepted"
        made = answer["request_id"]
        assert MADE.fullmatch(made)
        assert eventually(lambda: logged(stack, "devices", made), timeout=15)
    finally:
        socket.close()


def test_health_paths_are_not_routed_through_traefik(stack):
    host = {"Host": f"app.localhost:{stack.ports['http']}"}
    for path in ("/livez", "/readyz"):
        response = requests.get(stack.url(path), headers=host, timeout=15)
        assert response.status_code == 404, path
    assert requests.get(stack.url("/api/health"), timeout=15).status_code == 200


@pytest.mark.parametrize("port", ["gateway", "auth", "ws", "web"])
def test_each_edge_process_answers_livez_and_readyz(stack, port):
    base = f"http://127.0.0.1:{stack.ports[port]}"
    for path in ("/livez", "/readyz"):
        response = requests.get(base + path, timeout=15)
        assert response.status_code == 200, (port, path, response.text)
        assert response.json() == {"status": "ok"}


def status_of_health(stack) -> int | None:
    try:
        return requests.get(stack.url("/api/health"), timeout=1).status_code
    except requests.RequestException:
        return None


def test_traefik_stops_routing_to_a_gateway_that_does_not_answer_readyz(stack):
    gateway = stack.processes["gateway"]
    os.killpg(gateway.pid, signal.SIGSTOP)
    try:
        # Its health check times out: Traefik answers 503 itself, at once,
        # instead of waiting on a process that does not answer.
        assert eventually(lambda: status_of_health(stack) == 503, timeout=20)
    finally:
        os.killpg(gateway.pid, signal.SIGCONT)
    assert eventually(lambda: status_of_health(stack) == 200, timeout=20)
