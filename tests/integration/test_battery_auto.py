"""A battery in auto mode through the real stack: the platform sends a simulated
battery (``ems simulate --commands``) its plan's setpoints interval after interval,
the device obeys and reports its charge, and the plan is worked out again when the
reported charge drifts from it. The stack's control interval is 2 s, a plan step
6 s: the simulated battery charges in real time, so its charge falls behind a plan
that expects hours of charge in seconds, and drifts."""

import pytest

from harness.polling import eventually
from harness.simulation import simulate, stop
from tests.integration.test_simulated_devices import Watch

pytestmark = pytest.mark.integration

#: Cheap then dear: charge first, then discharge to serve the load.
PLAN = {
    "import_prices": [0.1, 0.5, 0.5],
    "export_prices": [0.0, 0.0, 0.0],
    "load_kwh": [0.0, 4.0, 4.0],
}


def test_auto_mode_sends_setpoints_and_replans_when_the_charge_drifts(
    stack, new_user, tmp_path
):
    user, client = new_user("Ampere")
    created = client.post(
        "/api/devices",
        {"name": "battery", "kind": "battery", "max_hourly_kwh": 5.0},
    )
    assert created.status_code == 201, created.text
    device_id = created.json()["id"]
    # The simulated battery: 5 kW each way, two hours of it, half full.
    battery = client.post(
        "/api/batteries",
        {
            "device_id": device_id,
            "capacity_kwh": 10,
            "max_charge_kw": 5,
            "max_discharge_kw": 5,
            "efficiency": 0.9,
            "min_soc": 0.1,
            "max_soc": 0.9,
            "soc_kwh": 5,
        },
    )
    assert battery.status_code == 201, battery.text
    battery_id = battery.json()["id"]
    assert battery.json()["control"] == "manual"

    watch = Watch(stack.resources.amqp_uri, [device_id])
    log = tmp_path / "simulator.log"
    simulator = simulate(stack, user["email"], log=log)
    try:
        watch.wait_for(device_id, "status", lambda b: b == {"online": True})
        switched = client.put(
            f"/api/batteries/{battery_id}/control", {"control": "auto", "plan": PLAN}
        )
        assert switched.status_code == 200, switched.text
        assert switched.json()["control"] == "auto"

        def intervals():
            plan = client.get(f"/api/batteries/{battery_id}/plan")
            assert plan.status_code == 200, plan.text
            return plan.json()["intervals"]

        # Setpoints over several intervals, each answered by the device.
        def sent_three():
            sent = [i for i in intervals() if i["command_id"]]
            return sent[:3] if len(sent) >= 3 else None

        sent = eventually(sent_three, timeout=30)
        assert len({i["starts_at"] for i in sent}) == 3
        for interval in sent:
            command_id = interval["command_id"]
            ack = watch.wait_for(
                device_id, "acks", lambda b, c=command_id: b["command_id"] == c
            )
            assert ack["status"] == "ok", ack
        assert sent[0]["planned_power_kw"] > 0  # cheap first: it charges
        # The plan shows what the device answered.
        answered = {i["command_id"] for i in sent}
        eventually(
            lambda: (
                {
                    i["command_status"]
                    for i in intervals()
                    if i["command_id"] in answered
                }
                == {"acked"}
            )
        )

        # The device's charge lags the plan's: re-planned from what it reported.
        drift = eventually(
            lambda: next((i for i in intervals() if i["replanned"] == "drift"), None),
            timeout=40,
        )
        assert drift["reported_soc_kwh"] is not None
        # The new plan starts from the reported charge.
        assert drift["planned_soc_kwh"] == pytest.approx(
            drift["reported_soc_kwh"], abs=1e-6
        )

        # A manual command goes to the device and holds the battery.
        held = client.post(
            f"/api/batteries/{battery_id}/commands",
            {"action": "idle", "override_minutes": 1},
        )
        assert held.status_code == 200, held.text
        assert held.json()["override_until"] is not None
        watch.wait_for(device_id, "acks", lambda b: b.get("detail") == "idle")
    finally:
        stop(simulator)
        watch.close()
    assert "Traceback" not in log.read_text(), log.read_text()
