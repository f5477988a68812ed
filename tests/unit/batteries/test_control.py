"""Auto mode's decisions: the setpoint of an interval, drift, override expiry."""

from datetime import UTC, datetime, timedelta

from services.batteries import control
from services.batteries.schedule import PlannedHour, Schedule

T0 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
PLAN = {
    "started_at": T0.isoformat(),
    "step_s": 3600,
    "start_soc_kwh": 5.0,
    "hours": [
        {"power_kw": 2.0, "soc_kwh_end": 7.0},
        {"power_kw": -3.0, "soc_kwh_end": 4.0},
    ],
    "request": {},
}


def decide(at, reported=None, override_until=None, plan=PLAN):
    return control.decide(
        plan,
        at,
        modelled_soc_kwh=5.5,
        reported_soc_kwh=reported,
        capacity_kwh=10.0,
        drift_fraction=0.05,
        override_until=override_until,
    )


def test_intervals_are_aligned_on_the_epoch():
    at = T0 + timedelta(minutes=22, seconds=7)
    assert control.interval_start(at, 900) == T0 + timedelta(minutes=15)
    assert control.interval_start(T0, 900) == T0
    assert control.interval_start(at, 2.5) == at - timedelta(seconds=2)


def test_the_interval_takes_the_setpoint_of_the_step_it_falls_in():
    first = decide(T0 + timedelta(minutes=45), reported=6.5)
    second = decide(T0 + timedelta(minutes=60), reported=7.0)
    assert isinstance(first, control.Send) and first.step.power_kw == 2.0
    assert isinstance(second, control.Send) and second.step.power_kw == -3.0
    assert second.step.soc_kwh_start == 7.0


def test_the_expected_charge_runs_along_the_step():
    step = control.current_step(PLAN, T0 + timedelta(minutes=30))
    assert control.expected_soc(step, 3600, T0 + timedelta(minutes=30)) == 6.0


def test_a_plan_that_ran_out_or_is_missing_is_worked_out_again():
    ran_out = decide(T0 + timedelta(hours=2), reported=4.2)
    assert ran_out == control.Replan(4.2, "plan ran out")
    # Without a report, the modelled charge is the start.
    assert decide(T0, plan=None) == control.Replan(5.5, "no plan")


def test_drift_beyond_the_threshold_replans_from_the_reported_charge():
    at = T0 + timedelta(minutes=30)  # the plan expects 6.0 kWh
    assert isinstance(decide(at, reported=6.4), control.Send)  # 0.4 < 0.5
    assert decide(at, reported=6.6) == control.Replan(6.6, "drift")
    assert decide(at, reported=5.4) == control.Replan(5.4, "drift")


def test_no_report_is_no_drift():
    assert not control.drifted(6.0, None, 10.0, 0.05)
    assert isinstance(decide(T0 + timedelta(minutes=30)), control.Send)


def test_a_manual_override_holds_until_it_expires():
    until = T0 + timedelta(minutes=60)
    assert decide(T0 + timedelta(minutes=59), override_until=until) == control.Hold(
        until
    )
    after = decide(T0 + timedelta(minutes=60), reported=7.0, override_until=until)
    assert isinstance(after, control.Send)
    assert not control.overridden(None, T0)


def test_setpoints_are_signed_and_back():
    assert control.signed_power("charge", 2.0) == 2.0
    assert control.signed_power("discharge", 2.0) == -2.0
    assert control.signed_power("idle", 0.0) == 0.0
    assert control.action_of(-1.5) == ("discharge", 1.5)
    assert control.action_of(0.0) == ("idle", None)


def test_a_schedule_is_stored_with_signed_powers_and_its_request():
    schedule = Schedule(
        hours=[
            PlannedHour(0, "charge", 2.0, 7.0, 0.5, 2.5, 0.25),
            PlannedHour(1, "discharge", 3.0, 4.0, 3.0, 0.0, 0.0),
        ],
        total_cost=0.25,
        cost_without_battery=1.0,
        saving=0.75,
        start_soc_kwh=5.0,
        grid_step_kwh=0.1,
    )
    stored = control.stored_plan(schedule, T0, 3600, {"import_prices": [1, 2]})
    assert [hour["power_kw"] for hour in stored["hours"]] == [2.0, -3.0]
    assert control.plan_steps(stored)[1].starts_at == T0 + timedelta(hours=1)
    assert stored["request"] == {"import_prices": [1, 2]}


def test_re_planning_repeats_the_prices_from_where_the_plan_got_to():
    request = {"import_prices": [1, 2, 3], "load_kwh": [4, 5, 6], "other": 1}
    assert control.rotated(request, 4) == {
        "import_prices": [2, 3, 1],
        "load_kwh": [5, 6, 4],
        "other": 1,
    }
