import { describe, expect, it } from "vitest";
import {
  applyPush,
  blankEventForm,
  countsText,
  dispatchesByDevice,
  eventBody,
  eventHours,
  formEnd,
  formStart,
  hourLabels,
  hourlyTotals,
  invitationErrorText,
  nextWholeHour,
  personText,
  directoryPath,
  statusAt,
  upsertEvent,
  windowText,
} from "./dr.js";

const event = {
  id: "e1",
  name: "Evening peak",
  start: "2026-11-24T17:00:00Z",
  end: "2026-11-24T19:00:00Z",
  status: "scheduled",
  cancelled_at: null,
};
const at = (iso) => Date.parse(iso);

describe("statusAt", () => {
  it("follows the clock: scheduled, active until end (excluded), finished", () => {
    expect(statusAt(event, at("2026-11-24T16:59:59Z"))).toBe("scheduled");
    expect(statusAt(event, at("2026-11-24T17:00:00Z"))).toBe("active");
    expect(statusAt(event, at("2026-11-24T18:59:59Z"))).toBe("active");
    expect(statusAt(event, at("2026-11-24T19:00:00Z"))).toBe("finished");
  });

  it("is cancelled once cancelled, whatever the time", () => {
    const cancelled = { ...event, cancelled_at: "2026-11-23T08:00:00Z", status: "cancelled" };
    expect(statusAt(cancelled, at("2026-11-20T00:00:00Z"))).toBe("cancelled");
    expect(statusAt(cancelled, at("2026-11-30T00:00:00Z"))).toBe("cancelled");
  });

  it("keeps the platform's status when the times are unreadable", () => {
    expect(statusAt({ status: "active" }, 0)).toBe("active");
    expect(statusAt(null)).toBeNull();
  });
});

describe("windows", () => {
  it("counts the hours of an event", () => {
    expect(eventHours(event)).toBe(2);
    expect(eventHours({ start: "2026-11-24T22:00:00Z", end: "2026-11-25T22:00:00Z" })).toBe(24);
  });

  it("writes a window on one day or across midnight", () => {
    expect(windowText(event)).toBe("2026-11-24 17:00–19:00 UTC");
    expect(windowText({ start: "2026-11-24T22:00:00Z", end: "2026-11-25T02:00:00Z" })).toBe(
      "2026-11-24 22:00 – 2026-11-25 02:00 UTC",
    );
    expect(windowText({})).toBe("–");
  });

  it("finds the next whole UTC hour at least the lead ahead", () => {
    expect(nextWholeHour(new Date("2026-11-22T20:15:26Z")).toISOString()).toBe("2026-11-22T22:00:00.000Z");
    expect(nextWholeHour(new Date("2026-11-22T20:00:00Z")).toISOString()).toBe("2026-11-22T21:00:00.000Z");
    expect(nextWholeHour(new Date("2026-11-22T23:30:00Z"), 0).toISOString()).toBe("2026-11-23T00:00:00.000Z");
  });

  it("starts the blank form on that hour, for two hours", () => {
    const form = blankEventForm(new Date("2026-11-22T23:10:00Z"));
    expect(form).toMatchObject({ name: "", date: "2026-11-23", hour: "1", hours: "2" });
    expect(formStart(form)).toBe("2026-11-23T01:00:00Z");
    expect(formEnd(form)).toBe("2026-11-23T03:00:00Z");
  });
});

describe("eventBody", () => {
  it("sends whole UTC hours and numbers", () => {
    const body = eventBody({
      name: "  Evening peak ",
      date: "2026-11-24",
      hour: "22",
      hours: "4",
      target_reduction_kw: "50",
      incentive_per_kwh: "0.3",
    });
    expect(body).toEqual({
      name: "Evening peak",
      start: "2026-11-24T22:00:00Z",
      end: "2026-11-25T02:00:00Z",
      target_reduction_kw: 50,
      incentive_per_kwh: 0.3,
    });
  });

  it("sends null for what is missing, so the platform names the field", () => {
    const body = eventBody({ name: "", date: "", hour: "7", hours: "2", target_reduction_kw: "", incentive_per_kwh: "" });
    expect(body).toEqual({ name: "", start: null, end: null, target_reduction_kw: null, incentive_per_kwh: null });
    expect(formStart({ date: "2026-11-24", hour: "24" })).toBeNull();
    expect(formStart({ date: "2026-02-30", hour: "1" })).toBeNull();
  });
});

describe("directoryPath", () => {
  it("asks the directory for 20 people from three characters on", () => {
    expect(directoryPath("  ada ")).toBe("/api/users/directory?q=ada&limit=20");
    expect(directoryPath("Ada Lovelace")).toBe("/api/users/directory?q=Ada+Lovelace&limit=20");
    expect(directoryPath("a&b=c%", 5)).toBe("/api/users/directory?q=a%26b%3Dc%25&limit=5");
  });

  it("does not ask for less", () => {
    expect(directoryPath("")).toBeNull();
    expect(directoryPath("  ad  ")).toBeNull();
    expect(directoryPath(undefined)).toBeNull();
  });
});

describe("personText", () => {
  it("is a name and an e-mail address, never an id", () => {
    expect(personText({ id: "9b2f", name: "Ada", email: "ada@example.com" })).toBe("Ada (ada@example.com)");
    expect(personText({ user_id: "9b2f", name: "Ada" })).toBe("Ada");
    expect(personText({ user_id: "9b2f" })).toBe("A user whose name is unavailable");
  });
});

describe("hourlyTotals", () => {
  it("sums participants hour by hour, oldest hour first", () => {
    const participants = [
      {
        user_id: "u1",
        hours: [
          { hour: "2026-11-24T18:00:00Z", baseline_kwh: 1.2, actual_kwh: 0.4, reduction_kwh: 0.8 },
          { hour: "2026-11-24T17:00:00Z", baseline_kwh: 0.1, actual_kwh: 0.2, reduction_kwh: 0 },
        ],
      },
      {
        user_id: "u2",
        hours: [{ hour: "2026-11-24T17:00:00Z", baseline_kwh: 0.2, actual_kwh: 0.1, reduction_kwh: 0.1 }],
      },
    ];
    expect(hourlyTotals(participants)).toEqual([
      { hour: "2026-11-24T17:00:00Z", baseline_kwh: 0.3, actual_kwh: 0.3, reduction_kwh: 0.1 },
      { hour: "2026-11-24T18:00:00Z", baseline_kwh: 1.2, actual_kwh: 0.4, reduction_kwh: 0.8 },
    ]);
  });

  it("is empty without participants", () => {
    expect(hourlyTotals([])).toEqual([]);
    expect(hourlyTotals(undefined)).toEqual([]);
  });
});

describe("live updates", () => {
  const later = { ...event, id: "e2", start: "2026-11-25T17:00:00Z", end: "2026-11-25T18:00:00Z" };

  it("adds a newly invited event in start order, latest first", () => {
    const list = [event];
    const invitation = { user_id: "u1", status: "invited", updated_at: "2026-11-22T19:00:00Z" };
    const next = applyPush(list, { event: later, invitation, change: "invited" });
    expect(next.map((e) => e.id)).toEqual(["e2", "e1"]);
    expect(next[0].invitation).toEqual(invitation);
    expect(list).toHaveLength(1); // not edited in place
  });

  it("updates an answer or a cancellation in place", () => {
    const list = [{ ...later, invitation: { status: "invited" } }, event];
    const opted = applyPush(list, { event: later, invitation: { user_id: "u1", status: "opted_in" }, change: "opted_in" });
    expect(opted.map((e) => e.id)).toEqual(["e2", "e1"]);
    expect(opted[0].invitation.status).toBe("opted_in");

    const cancelled = { ...later, status: "cancelled", cancelled_at: "2026-11-23T08:00:00Z" };
    const next = applyPush(opted, { event: cancelled, invitation: { user_id: "u1", status: "opted_in" }, change: "cancelled" });
    expect(next[0].status).toBe("cancelled");
    expect(next[0].cancelled_at).toBe("2026-11-23T08:00:00Z");
  });

  it("keeps what a pushed event does not carry (staff counts)", () => {
    const counts = { invited: 1, opted_in: 2, opted_out: 0 };
    const next = upsertEvent([{ ...event, invitation_counts: counts }], { ...event, name: "Renamed" });
    expect(next[0].invitation_counts).toEqual(counts);
    expect(next[0].name).toBe("Renamed");
  });

  it("ignores a message without an event", () => {
    const list = [event];
    expect(applyPush(list, {})).toBe(list);
    expect(applyPush(list, undefined)).toBe(list);
    expect(upsertEvent(list, null)).toBe(list);
    expect(upsertEvent(null, event)).toEqual([event]);
  });
});

describe("countsText", () => {
  it("counts the answers", () => {
    expect(countsText({ invited: 1, opted_in: 2, opted_out: 3 })).toBe("6 invited: 2 in, 3 out, 1 not answered");
    expect(countsText({ invited: 0, opted_in: 0, opted_out: 0 })).toBe("nobody invited");
    expect(countsText(undefined)).toBe("–");
  });
});

describe("invitationErrorText", () => {
  const names = { a: "Ada (ada@example.com)", b: "Bob (bob@example.com)", x: "Xavier" };
  const nameOf = (id) => names[id];

  it("names the users that are gone (404)", () => {
    const error = { status: 404, details: { user_ids: ["a", "b"] } };
    expect(invitationErrorText(error, ["a", "b", "c"], nameOf)).toBe(
      "These users no longer exist: Ada (ada@example.com), Bob (bob@example.com).",
    );
    expect(invitationErrorText({ status: 404, details: { user_ids: ["a"] } }, ["a"], nameOf)).toBe(
      "This user no longer exists: Ada (ada@example.com).",
    );
  });

  it("names each bad entry of a 400 by who it is", () => {
    const error = { status: 400, details: { user_ids: { 0: ["not a valid id"], 2: ["not a valid id"] } } };
    expect(invitationErrorText(error, ["x", "ok", "a"], nameOf)).toBe(
      "Xavier: not a valid id; Ada (ada@example.com): not a valid id",
    );
  });

  it("passes list messages on, and is null for other errors", () => {
    expect(invitationErrorText({ status: 400, details: { user_ids: ["Length must be between 1 and 500."] } })).toBe(
      "Length must be between 1 and 500.",
    );
    expect(invitationErrorText({ status: 409, details: {} })).toBeNull();
    expect(invitationErrorText(null)).toBeNull();
  });
});

describe("hourLabels", () => {
  it("writes only the hour when the event stays on one UTC day", () => {
    const label = hourLabels([{ hour: "2026-11-24T17:00:00Z" }, { hour: "2026-11-24T18:00:00Z" }]);
    expect(label("2026-11-24T18:00:00Z")).toBe("18:00");
  });

  it("adds the day when the event crosses midnight", () => {
    const label = hourLabels([{ hour: "2026-11-24T23:00:00Z" }, { hour: "2026-11-25T00:00:00Z" }]);
    expect(label("2026-11-24T23:00:00Z")).toBe("11-24 23:00");
    expect(label("2026-11-25T00:00:00Z")).toBe("11-25 00:00");
  });
});

describe("what an event dispatched", () => {
  it("is grouped by device, each with its start and end command", () => {
    const rows = dispatchesByDevice([
      { device_id: "b", phase: "end", status: "acked", created_at: "2026-11-24T19:00:01Z" },
      { device_id: "a", phase: "start", status: "acked", created_at: "2026-11-24T17:00:01Z" },
      { device_id: "b", phase: "start", status: "rejected", created_at: "2026-11-24T17:00:02Z" },
    ]);
    expect(rows.map((row) => [row.device_id, row.start?.status ?? null, row.end?.status ?? null])).toEqual([
      ["a", "acked", null],
      ["b", "rejected", "acked"],
    ]);
    expect(dispatchesByDevice(undefined)).toEqual([]);
  });
});
