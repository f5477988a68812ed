import { describe, expect, it } from "vitest";
import {
  bodyText,
  countText,
  deadLetterQuery,
  deletedText,
  errorLines,
  headerRows,
  health,
  healthSummary,
  lagText,
  metricsNotice,
  NONE,
  purgedText,
  purgeQuestion,
  queueText,
  rateText,
  replayedText,
  sizeText,
  stageFigures,
  uptimeText,
} from "./operations.js";

// As GET /api/operations answers (docs: the operations contract).
const PIPELINE = [
  { stage: "devices", label: "Devices", rate: 16.3, paths: { amqp: 12.3, mqtt: 4.0 } },
  { stage: "broker", label: "Broker", queues: [{ name: "balancer.raw", messages: 0, consumers: 1 }] },
  { stage: "balancer", label: "Balancer", rate: 16.3 },
  {
    stage: "workers",
    label: "Ingest workers",
    rate: 16.2,
    queues: [
      { name: "monitoring.ingest.1", messages: 0, consumers: 1 },
      { name: "monitoring.ingest.2", messages: 3, consumers: 1 },
    ],
  },
  {
    stage: "database",
    label: "Database",
    rate: 16.2,
    rejected_rate: 0.0,
    lag: { p50: 0.04, p99: 0.21 },
    publish_lag: { p50: 0.01, p99: 0.05 },
  },
];
const GATEWAY = { stage: "ws_gateway", label: "WebSocket gateway", sockets: 3, rate: 5.2, dropped_rate: 0.0 };

describe("figures", () => {
  it("writes rates per second, a trickle with two decimals", () => {
    expect(rateText(16.34)).toBe("16.3/s");
    expect(rateText(0)).toBe("0/s");
    expect(rateText(0.0333)).toBe("0.03/s");
    expect(rateText(1234.5)).toBe("1235/s");
  });

  it("writes lags in ms, s, minutes or hours", () => {
    expect(lagText(0.04)).toBe("40 ms");
    expect(lagText(0.2104)).toBe("210 ms");
    expect(lagText(2.14)).toBe("2.1 s");
    expect(lagText(185)).toBe("3 min 5 s");
    expect(lagText(84600)).toBe("23 h 30 min");
    expect(lagText(86400.4)).toBe("1 d 0 h");
  });

  it("writes an uptime as people say it", () => {
    expect(uptimeText(45.9)).toBe("45 s");
    expect(uptimeText(720)).toBe("12 min");
    expect(uptimeText(3 * 3600 + 12 * 60 + 30)).toBe("3 h 12 min");
    expect(uptimeText(3600)).toBe("1 h 0 min");
    expect(uptimeText(2 * 86400 + 4 * 3600 + 59)).toBe("2 d 4 h");
  });

  it("shows a dash for what Prometheus has no value for", () => {
    for (const format of [rateText, lagText, uptimeText, countText, sizeText]) {
      expect(format(null)).toBe(NONE);
      expect(format(undefined)).toBe(NONE);
      expect(format(Number.NaN)).toBe(NONE);
    }
    expect(uptimeText(-1)).toBe(NONE);
    expect(queueText({ name: "balancer.raw", messages: null, consumers: null })).toBe(`${NONE} waiting, ${NONE} consumers`);
  });

  it("writes a queue's depth and consumers", () => {
    expect(queueText({ name: "q", messages: 0, consumers: 1 })).toBe("0 waiting, 1 consumer");
    expect(queueText({ name: "q", messages: 3, consumers: 2 })).toBe("3 waiting, 2 consumers");
  });

  it("writes sizes in bytes, KiB and MiB", () => {
    expect(sizeText(118)).toBe("118 B");
    expect(sizeText(1260)).toBe("1.2 KiB");
    expect(sizeText(65536)).toBe("64.0 KiB");
    expect(sizeText(3 * 1024 * 1024)).toBe("3.0 MiB");
  });
});

describe("stageFigures", () => {
  const figures = (stage) => Object.fromEntries(stageFigures(stage).map((f) => [f.label, f.value]));

  it("gives the devices their rate and one per path", () => {
    expect(stageFigures(PIPELINE[0])).toEqual([
      { label: "Readings", value: "16.3/s" },
      { label: "over AMQP", value: "12.3/s" },
      { label: "over MQTT", value: "4.0/s" },
    ]);
  });

  it("leaves a stage with queues only to its queues", () => {
    expect(stageFigures(PIPELINE[1])).toEqual([]);
    expect(figures(PIPELINE[3])).toEqual({ Readings: "16.2/s" });
  });

  it("gives the database its rejections and both lags", () => {
    expect(figures(PIPELINE[4])).toEqual({
      Readings: "16.2/s",
      Rejected: "0/s",
      "Lag, reading to commit": "p50 40 ms, p99 210 ms",
      "Lag, receipt to commit": "p50 10 ms, p99 50 ms",
    });
  });

  it("gives the WebSocket gateway its pushes, sockets and drops", () => {
    expect(figures(GATEWAY)).toEqual({ Pushes: "5.2/s", "Browsers connected": "3", Dropped: "0/s" });
  });

  it("shows every figure of a stage Prometheus knows nothing of, as a dash", () => {
    const blank = { stage: "database", label: "Database", rate: null, rejected_rate: null, lag: { p50: null, p99: null }, publish_lag: null };
    expect(figures(blank)).toEqual({
      Readings: NONE,
      Rejected: NONE,
      "Lag, reading to commit": `p50 ${NONE}, p99 ${NONE}`,
      "Lag, receipt to commit": `p50 ${NONE}, p99 ${NONE}`,
    });
    expect(stageFigures({ stage: "devices", label: "Devices", rate: null, paths: { amqp: null } })).toEqual([
      { label: "Readings", value: NONE },
      { label: "over AMQP", value: NONE },
    ]);
    expect(stageFigures(undefined)).toEqual([]);
  });
});

describe("metricsNotice", () => {
  it("says nothing when Prometheus answered", () => {
    expect(metricsNotice({ status: "ok" })).toBeNull();
    expect(metricsNotice(undefined)).toBeNull();
  });

  it("gives the reason the figures are missing", () => {
    const notice = metricsNotice({ status: "unavailable", reason: "Prometheus at http://127.0.0.1:9090 does not answer" });
    expect(notice).toMatch(/^Live figures are unavailable: Prometheus at http:\/\/127\.0\.0\.1:9090 does not answer\. /);
    expect(notice).toContain(NONE);
    expect(metricsNotice({ status: "unavailable" })).toMatch(/^Live figures are unavailable\. /);
    expect(metricsNotice({ status: "unavailable", reason: "Timed out." })).toMatch(/^Live figures are unavailable: Timed out\. /);
  });
});

describe("health", () => {
  it("tells the three states apart by class, symbol and word", () => {
    const shown = ["ok", "unready", "down"].map((state) => health({ health: state, failing: {} }));
    expect(shown.map((h) => h.className)).toEqual(["health-ok", "health-unready", "health-down"]);
    expect(new Set(shown.map((h) => h.symbol)).size).toBe(3);
    expect(shown.map((h) => h.label)).toEqual(["ok", "unready", "down"]);
  });

  it("says what fails of an unready process", () => {
    const unready = health({ health: "unready", failing: { database: "connection refused", broker: "no channel" } });
    expect(unready.failing).toEqual(["database: connection refused", "broker: no channel"]);
    expect(health({ health: "ok", failing: { database: "stale" } }).failing).toEqual([]);
  });

  it("takes a state it does not know for down", () => {
    expect(health({ health: "exploded" }).className).toBe("health-down");
    expect(health(undefined).label).toBe("down");
  });

  it("counts the processes in each state", () => {
    const processes = [{ health: "ok" }, { health: "ok" }, { health: "unready", failing: { database: "x" } }];
    expect(healthSummary(processes)).toBe("2 ok, 1 unready, 0 down");
    expect(healthSummary([])).toBe("0 ok, 0 unready, 0 down");
  });
});

describe("errorLines", () => {
  it("keeps a message's first line in the table and its traceback apart", () => {
    const message = 'request failed\nTraceback (most recent call last):\n  File "x.py", line 1\nValueError: no';
    expect(errorLines(message)).toEqual({
      summary: "request failed",
      more: 'Traceback (most recent call last):\n  File "x.py", line 1\nValueError: no',
    });
    expect(errorLines("one line")).toEqual({ summary: "one line", more: "" });
    expect(errorLines(null)).toEqual({ summary: "", more: "" });
  });
});

describe("dead letters", () => {
  it("filters by a reason, trimmed, and leaves out an empty one", () => {
    expect(deadLetterQuery(" back-fill ", 100)).toEqual({ reason: "back-fill", limit: 100 });
    expect(deadLetterQuery("  ")).toEqual({});
    expect(deadLetterQuery(undefined, 50)).toEqual({ limit: 50 });
  });

  it("lists headers by name, values as text", () => {
    expect(headerRows({ "x-ems-reason": "too old", "x-death": [{ count: 1 }], attempts: 2 })).toEqual([
      ["attempts", "2"],
      ["x-death", '[{"count":1}]'],
      ["x-ems-reason", "too old"],
    ]);
    expect(headerRows(null)).toEqual([]);
  });

  it("indents a JSON body and keeps any other as it came", () => {
    expect(bodyText({ body: '{"kwh":0.1,"timestamp":"1970-01-01T00:00:00Z"}' })).toBe(
      '{\n  "kwh": 0.1,\n  "timestamp": "1970-01-01T00:00:00Z"\n}',
    );
    expect(bodyText({ body: "not json {" })).toBe("not json {");
    expect(bodyText({})).toBe("");
  });

  it("asks before a purge, naming the filter", () => {
    expect(purgeQuestion("")).toMatch(/^Delete every dead letter\?/);
    expect(purgeQuestion(" window ")).toMatch(/^Delete every dead letter whose reason contains “window”\?/);
  });

  it("says what each action did", () => {
    expect(replayedText({ id: "1", exchange: "ems.data", routing_key: "device.7a2e.reading" })).toBe(
      "Replayed to ems.data device.7a2e.reading.",
    );
    expect(purgedText({ deleted: 3 })).toBe("Purged 3 dead letters.");
    expect(purgedText({ deleted: 1 })).toBe("Purged 1 dead letter.");
    expect(purgedText({ deleted: 0 })).toBe("Purged 0 dead letters.");
    expect(deletedText({ routing_key: "device.7a2e.reading" })).toBe("Deleted the dead letter of device.7a2e.reading.");
  });
});
