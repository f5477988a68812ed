import { describe, expect, it } from "vitest";
import { ApiError } from "./api.js";
import { formFieldMessage, hhmm, hoursOfDay, preferencesBody, preferencesForm, withSeverity } from "./notificationPreferences.js";

const PREFERENCES = {
  app_severities: ["warning", "critical", "major", "minor"],
  email_severities: ["critical"],
  quiet_hours: { start: "22:00", end: "07:00" },
  digest: { enabled: true, hour: 7 },
};

describe("the preferences' form", () => {
  it("reads the preferences, severities most severe first", () => {
    expect(preferencesForm(PREFERENCES)).toEqual({
      app_severities: ["critical", "major", "minor", "warning"],
      email_severities: ["critical"],
      quiet: true,
      quiet_start: "22:00",
      quiet_end: "07:00",
      digest: true,
      digest_hour: "7",
    });
  });

  it("offers quiet hours and a digest hour to switch on when there are none", () => {
    const form = preferencesForm({ ...PREFERENCES, quiet_hours: null, digest: { enabled: false, hour: 18 } });
    expect(form).toMatchObject({ quiet: false, quiet_start: "22:00", quiet_end: "07:00", digest: false, digest_hour: "18" });
  });

  it("ticks and unticks a channel's severities", () => {
    const form = preferencesForm(PREFERENCES);
    expect(withSeverity(form, "email_severities", "minor", true).email_severities).toEqual(["critical", "minor"]);
    expect(withSeverity(form, "app_severities", "major", false).app_severities).toEqual(["critical", "minor", "warning"]);
    expect(withSeverity(form, "email_severities", "critical", true).email_severities).toEqual(["critical"]);
  });

  it("gives back the whole object, unchanged by a round trip", () => {
    expect(preferencesBody(preferencesForm(PREFERENCES))).toEqual({
      app_severities: ["critical", "major", "minor", "warning"],
      email_severities: ["critical"],
      quiet_hours: { start: "22:00", end: "07:00" },
      digest: { enabled: true, hour: 7 },
    });
  });

  it("sends no quiet hours when they are off, and keeps the digest's hour when it is off", () => {
    const form = { ...preferencesForm(PREFERENCES), quiet: false, digest: false, digest_hour: "6" };
    expect(preferencesBody(form)).toMatchObject({ quiet_hours: null, digest: { enabled: false, hour: 6 } });
  });

  it("sends times as HH:MM", () => {
    expect(hhmm("7:05")).toBe("07:05");
    expect(hhmm("23:30:00")).toBe("23:30");
    expect(hhmm("")).toBe("");
    const form = { ...preferencesForm(PREFERENCES), quiet_start: "21:00:00", quiet_end: "6:30" };
    expect(preferencesBody(form).quiet_hours).toEqual({ start: "21:00", end: "06:30" });
  });

  it("offers the 24 hours of the day for the digest", () => {
    const hours = hoursOfDay();
    expect(hours).toHaveLength(24);
    expect(hours[0]).toEqual({ value: "0", label: "00:00" });
    expect(hours[23]).toEqual({ value: "23", label: "23:00" });
  });
});

describe("the server's messages", () => {
  const error = new ApiError(400, {
    error: "validation_failed",
    message: "Some fields are wrong.",
    details: {
      email_severities: ["Not a severity: loud."],
      quiet_hours: { start: ["Not a time."] },
      digest: { hour: ["Must be between 0 and 23."] },
    },
  });

  it("land on the form's fields by their path in the body", () => {
    expect(formFieldMessage(error, "email_severities")).toBe("Not a severity: loud.");
    expect(formFieldMessage(error, "quiet_start")).toBe("Not a time.");
    expect(formFieldMessage(error, "quiet_end")).toBeNull();
    expect(formFieldMessage(error, "digest_hour")).toBe("Must be between 0 and 23.");
    expect(formFieldMessage(error, "app_severities")).toBeNull();
    expect(formFieldMessage(error, "quiet_hours")).toBeNull();
    expect(formFieldMessage(null, "quiet_start")).toBeNull();
  });

  it("about the quiet hours as a whole land on them", () => {
    const whole = new ApiError(400, { error: "validation_failed", message: "x", details: { quiet_hours: ["Start and end must differ."] } });
    expect(formFieldMessage(whole, "quiet_hours")).toBe("Start and end must differ.");
    expect(formFieldMessage(whole, "quiet_start")).toBeNull();
  });
});
