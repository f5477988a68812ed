"""Telemetry and device status through the real platform: readings with exported
energy, power and charge over AMQP and MQTT, devices going offline when silent or
when their MQTT connection drops (the broker's will), and coming back."""

import time
import uuid
from datetime import UTC, datetime

import pytest

from harness.clients import MqttDevice, ws_connect, ws_receive
from harness.polling import eventually
from harness.readings import (
    publish_readings,
    recent_day,
    stored,
    stored_export,
    stored_reading,
)
from services.common.topology import mqtt_reading_topic, mqtt_status_topic

pytestmark = pytest.mark.integration


def reading(device_id, stamp, kwh, **telemetry):
    return {
        "reading_id": str(uuid.uuid4()),
        "device_id": device_id,
        "timestamp": stamp,
        "kwh": kwh,
        **telemetry,
    }


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def add_device(client, **fields):
    created = client.post("/api/devices", {"name": "Roof", "kind": "pv", **fields})
    assert created.status_code == 201, created.text
    return created.json()


def status_of(client, device_id) -> dict:
    answer = client.get(f"/api/devices/{device_id}/status")
    assert answer.status_code == 200, answer.text
    return answer.json()


def mqtt_login(client, device_id, **changes) -> MqttDevice:
    answer = client.post(f"/api/devices/{device_id}/credentials")
    assert answer.status_code == 201, answer.text
    device = MqttDevice(answer.json(), **changes)
    assert device.connect()
    return device


def notifications(client, reason) -> list:
    listed = client.get("/api/notifications")
    assert listed.status_code == 200, listed.text
    return [n for n in listed.json() if n["reason"] == reason]


def test_telemetry_is_kept_and_exported_energy_counted_once(stack, new_user):
    _, client = new_user()
    device = add_device(client)
    noon = reading(
        device["id"],
        f"{recent_day()}T12:15:00Z",
        0.05,
        export_kwh=1.25,
        power_w=-4800.0,
        soc_kwh=7.5,
        measurements={"voltage_v": 231.4, "temperature_c": 41.5},
    )
    evening = reading(device["id"], f"{recent_day()}T18:30:00Z", 0.5)
    # Twice over AMQP and once over MQTT: counted once.
    publish_readings(stack, noon, evening, noon)
    mqtt = mqtt_login(client, device["id"])
    try:
        assert mqtt.publish(mqtt_reading_topic(device["id"]), noon).is_published()
    finally:
        mqtt.close()
    query = {"device_id": device["id"], "date": recent_day()}
    day = eventually(
        lambda: (
            (d := client.get("/api/consumption/day", params=query).json())["total_kwh"]
            == 0.55
            and d
        )
    )
    time.sleep(1)
    day = client.get("/api/consumption/day", params=query).json()
    assert (day["total_kwh"], day["total_export_kwh"]) == (0.55, 1.25)
    hours = {h["hour"][11:13]: (h["kwh"], h["export_kwh"]) for h in day["hours"]}
    assert hours["12"] == (0.05, 1.25) and hours["18"] == (0.5, 0.0)
    assert stored(stack, device["id"])[:2] == (2, 2)
    assert stored_export(stack, device["id"]) == 1.25
    kept = stored_reading(stack, noon["reading_id"])
    assert (kept["kwh"], kept["export_kwh"], kept["power_w"], kept["soc_kwh"]) == (
        0.05,
        1.25,
        -4800.0,
        7.5,
    )
    assert kept["measurements"] == {"voltage_v": 231.4, "temperature_c": 41.5}
    # Three days old: counted, remembered as the newest power and charge, but
    # too old to say the device is online.
    status = status_of(client, device["id"])
    assert (status["online"], status["power_w"], status["soc_kwh"]) == (
        False,
        -4800.0,
        7.5,
    )
    assert status["power_at"] == status["soc_at"] == f"{recent_day()}T12:15:00Z"
    assert status["last_seen"] == f"{recent_day()}T18:30:00Z"


def test_a_bad_optional_field_dead_letters_the_reading(stack, new_user, admin):
    _, client = new_user()
    device = add_device(client)
    bad = reading(
        device["id"], f"{recent_day()}T09:00:00Z", 0.1, measurements={"Volts": 230}
    )
    good = reading(device["id"], f"{recent_day()}T09:30:00Z", 0.2, export_kwh=0.1)
    publish_readings(stack, bad, good)
    eventually(lambda: stored_reading(stack, good["reading_id"]))

    def reason():
        listed = admin.get("/api/dead-letters", params={"reason": "Volts"}).json()
        return [d["reason"] for d in listed if bad["reading_id"] in d["preview"]]

    [why] = eventually(reason, timeout=15)
    assert "measurement name 'Volts'" in why
    assert stored_reading(stack, bad["reading_id"]) is None


def test_a_silent_device_goes_offline_and_comes_back_with_a_reading(
    stack, new_user, admin
):
    _, client = new_user()
    # A reading a second: offline after 3 s of silence and the test's 1 s grace.
    device = add_device(client, reading_interval_s=1)
    assert device["reading_interval_s"] == 1
    socket = ws_connect(stack, client.token)
    try:
        publish_readings(stack, reading(device["id"], now_iso(), 0.001, power_w=90.0))
        online = ws_receive(socket, "device.status")
        assert online["data"]["device_id"] == device["id"]
        assert online["data"]["online"] is True
        assert online["data"]["power_w"] == 90.0
        silent_from = time.monotonic()
        offline = ws_receive(socket, "device.status", wait=15)
        went_offline_after = time.monotonic() - silent_from
        assert offline["data"]["online"] is False
        assert offline["data"]["last_seen"] == online["data"]["last_seen"]
        assert 3 <= went_offline_after <= 8, went_offline_after
        assert status_of(client, device["id"])["online"] is False
        [gone] = eventually(lambda: notifications(client, "offline"))
        assert (gone["device_id"], gone["hour"], gone["kwh"]) == (
            device["id"],
            None,
            None,
        )
        publish_readings(stack, reading(device["id"], now_iso(), 0.001))
        back = ws_receive(socket, "device.status")
        assert back["data"]["online"] is True
        assert back["data"]["since"] > offline["data"]["since"]
    finally:
        socket.close()
    assert len(notifications(client, "online")) == 2  # first heard of, and back
    listed = client.get("/api/devices/status").json()
    assert [s["device_id"] for s in listed] == [device["id"]]
    # Staff see anyone's; another user sees nothing of it.
    staff = admin.get("/api/devices/status", params={"device_id": device["id"]})
    assert [s["device_id"] for s in staff.json()] == [device["id"]]
    _, other = new_user("Bob")
    assert other.get(f"/api/devices/{device['id']}/status").status_code == 404
    assert other.get("/api/devices/status").json() == []
    assert (
        other.get("/api/devices/status", params={"device_id": "x"}).status_code == 400
    )


def test_a_dropped_mqtt_connection_makes_the_device_offline_at_once(stack, new_user):
    _, client = new_user()
    # An hour between readings: only the will can make it offline within the test.
    device = add_device(client, reading_interval_s=3600)
    topic = mqtt_status_topic(device["id"])
    socket = ws_connect(stack, client.token)
    mqtt = mqtt_login(client, device["id"], will=(topic, {"online": False}))
    try:
        assert mqtt.publish(topic, {"online": True}).is_published()
        assert ws_receive(socket, "device.status")["data"]["online"] is True
        assert status_of(client, device["id"])["online"] is True
        mqtt.drop()
        # The timer would wait hours for this device: only its will is this quick.
        offline = ws_receive(socket, "device.status", wait=10)
        assert offline is not None, "the will never arrived"
        assert offline["data"]["online"] is False
    finally:
        socket.close()
        mqtt.client.loop_stop()
    assert status_of(client, device["id"])["online"] is False
    assert [n["reason"] for n in client.get("/api/notifications").json()] == [
        "offline",
        "online",
    ]
    # A clean reconnection says so, and a DISCONNECT leaves no will behind.
    again = mqtt_login(client, device["id"], will=(topic, {"online": False}))
    try:
        assert again.publish(topic, {"online": True}).is_published()
        eventually(lambda: status_of(client, device["id"])["online"])
    finally:
        again.close()
    time.sleep(2)
    assert status_of(client, device["id"])["online"] is True


def test_presence_that_names_no_device_is_dead_lettered(stack, new_user, admin):
    _, client = new_user()
    device = add_device(client)
    unknown = str(uuid.uuid4())
    bad = [
        (f"ems.devices.{unknown}.status", b'{"online": true}', "unknown device"),
        ("ems.devices.not-a-device.status", b'{"online": true}', "names no device"),
        (f"ems.devices.{device['id']}.status", b'{"online": "yes"}', "online"),
        (f"ems.devices.{device['id']}.status", b"{nope", "undecodable body"),
    ]
    # Published as JSON (a content type), as an AMQP client would: a body that is
    # not JSON is refused before the handler sees it.
    publish_readings(stack, raw=[(key, body) for key, body, _ in bad])
    keys = {key for key, _, _ in bad}

    def reasons():
        # monitoring's: devices, which also hears presence, refuses a body it
        # cannot decode too.
        listed = admin.get("/api/dead-letters", params={"limit": 500})
        found = {
            (d["routing_key"], d["preview"]): d["reason"]
            for d in listed.json()
            if d["routing_key"] in keys and d["service"] == "monitoring"
        }
        return len(found) >= len(bad) and found

    found = eventually(reasons, timeout=15)
    for key, body, fragment in bad:
        assert fragment in found[(key, body.decode())], (key, found)
    assert status_of(client, device["id"])["online"] is False
