"""Devices' own broker credentials through the API, probed with a real MQTT client
on RabbitMQ's MQTT listener."""

import pytest

from harness.clients import (
    MqttDevice,
    assert_locked_out_when_replaced_and_deleted,
    can_connect,
)
from harness.polling import eventually
from harness.readings import recent_day

pytestmark = pytest.mark.integration


@pytest.fixture
def household(new_user):
    _, client = new_user()
    devices = [
        client.post("/api/devices", {"name": name, "kind": "meter"}).json()
        for name in ("Mine", "Also mine")
    ]
    return client, devices


def issue(client, device_id):
    response = client.post(f"/api/devices/{device_id}/credentials")
    assert response.status_code == 201, response.text
    return response.json()


def test_only_the_owner_or_an_admin_gets_a_device_s_credentials(
    household, new_user, admin, anonymous
):
    client, (device, _) = household
    answer = issue(client, device["id"])
    assert set(answer) == {"device_id", "username", "password", "mqtt", "amqp"}
    assert answer["mqtt"]["publish_topic"] == f"ems/devices/{device['id']}/reading"
    _, stranger = new_user("Eve")
    assert stranger.post(f"/api/devices/{device['id']}/credentials").status_code == 404
    assert anonymous.post(f"/api/devices/{device['id']}/credentials").status_code == 401
    assert issue(admin, device["id"])["password"] != answer["password"]
    assert client.post("/api/devices/no-such/credentials").status_code == 404


def test_a_device_may_only_publish_as_itself(household):
    client, (device, other) = household
    answer = issue(client, device["id"])
    assert not can_connect(answer, username=None)  # anonymous
    assert not can_connect(answer, password="not-the-password")
    mine = MqttDevice(answer)
    try:
        assert mine.connect()
        reading = {
            "reading_id": "probe-1",
            "device_id": device["id"],
            "timestamp": f"{recent_day()}T10:15:00Z",
            "kwh": 0.25,
        }
        assert mine.publish(answer["mqtt"]["publish_topic"], reading).is_published()
        stolen = dict(reading, reading_id="probe-2", device_id=other["id"])
        info = mine.publish(f"ems/devices/{other['id']}/reading", stolen, timeout=5)
        assert not info.is_published()
        assert mine.disconnected.wait(5)
    finally:
        mine.close()
    day = eventually(
        lambda: (
            (
                r := client.get(
                    "/api/consumption/day",
                    params={"device_id": device["id"], "date": recent_day()},
                ).json()
            )["total_kwh"]
            and r
        )
    )
    assert day["total_kwh"] == 0.25
    others = client.get(
        "/api/consumption/day",
        params={"device_id": other["id"], "date": recent_day()},
    ).json()
    assert others["total_kwh"] == 0


def test_a_rotated_or_deleted_device_is_locked_out(household):
    client, (device, _) = household

    def delete():
        assert client.delete(f"/api/devices/{device['id']}").status_code == 204

    assert_locked_out_when_replaced_and_deleted(
        lambda: issue(client, device["id"]), delete
    )
