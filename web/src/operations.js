// The platform's own state as the operations page shows it: the figures of each
// stage of the reading and push paths, each process's health, and the dead
// letters' outcomes in words. No React, no I/O.

// What a figure Prometheus has no value for (yet) is shown as.
export const NONE = "—";

// How often the page asks again, in ms.
export const REFRESH_MS = 5000;

function known(value) {
  return value !== null && value !== undefined && Number.isFinite(Number(value));
}

// "16.3/s": a rate per second; small rates keep two decimals, so that a trickle
// is not shown as nothing, large ones none.
export function rateText(value) {
  if (!known(value)) return NONE;
  const rate = Number(value);
  if (rate === 0) return "0/s";
  if (Math.abs(rate) < 1) return `${rate.toFixed(2)}/s`;
  if (Math.abs(rate) < 100) return `${rate.toFixed(1)}/s`;
  return `${Math.round(rate)}/s`;
}

// "40 ms", "2.1 s", "3 min 5 s", "23 h 30 min": a lag given in seconds (a
// reading sent long after it was taken, a back-filled history, lags by hours).
export function lagText(seconds) {
  if (!known(seconds)) return NONE;
  const value = Number(seconds);
  if (value < 1) return `${Math.round(value * 1000)} ms`;
  if (value < 60) return `${value.toFixed(1)} s`;
  const whole = Math.round(value);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  return uptimeText(whole);
}

// "45 s", "12 min", "3 h 12 min", "2 d 4 h": how long a process has been up.
export function uptimeText(seconds) {
  if (!known(seconds) || Number(seconds) < 0) return NONE;
  const whole = Math.floor(Number(seconds));
  if (whole < 60) return `${whole} s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

// A count (messages waiting, sockets open), or NONE.
export function countText(value) {
  return known(value) ? String(Math.round(Number(value))) : NONE;
}

// "0 waiting, 1 consumer": a queue's depth and its consumers.
export function queueText(queue) {
  const consumers = countText(queue?.consumers);
  const noun = consumers === "1" ? "consumer" : "consumers";
  return `${countText(queue?.messages)} waiting, ${consumers} ${noun}`;
}

// "p50 40 ms, p99 210 ms": a lag's two quantiles.
function quantiles(lag) {
  return `p50 ${lagText(lag?.p50)}, p99 ${lagText(lag?.p99)}`;
}

// The figures of a stage of either path, each `{ label, value }`, in the order
// they are shown. A stage shows those of its fields the answer has; its queues
// are listed apart (`stage.queues`).
export function stageFigures(stage) {
  const figures = [];
  if (!stage) return figures;
  if ("rate" in stage) {
    figures.push({ label: stage.stage === "ws_gateway" ? "Pushes" : "Readings", value: rateText(stage.rate) });
  }
  for (const [path, rate] of Object.entries(stage.paths || {})) {
    figures.push({ label: `over ${path.toUpperCase()}`, value: rateText(rate) });
  }
  if ("rejected_rate" in stage) figures.push({ label: "Rejected", value: rateText(stage.rejected_rate) });
  if ("lag" in stage) figures.push({ label: "Lag, reading to commit", value: quantiles(stage.lag) });
  if ("publish_lag" in stage) figures.push({ label: "Lag, receipt to commit", value: quantiles(stage.publish_lag) });
  if ("sockets" in stage) figures.push({ label: "Browsers connected", value: countText(stage.sockets) });
  if ("dropped_rate" in stage) figures.push({ label: "Dropped", value: rateText(stage.dropped_rate) });
  return figures;
}

// Why the figures are missing, or null when Prometheus answered.
export function metricsNotice(metrics) {
  if (!metrics || metrics.status === "ok") return null;
  const reason = (metrics.reason || "").trim().replace(/\.$/, "");
  return `Live figures are unavailable${reason ? `: ${reason}` : ""}. Figures without a value are shown as ${NONE}.`;
}

const HEALTH = {
  ok: { label: "ok", symbol: "✓" },
  unready: { label: "unready", symbol: "!" },
  down: { label: "down", symbol: "✕" },
};

// A process's health as shown: its class (`health-ok`, `health-unready`,
// `health-down`), a symbol and a word (never the colour alone), and for an
// unready one what fails ("database: connection refused").
export function health(process) {
  const state = Object.hasOwn(HEALTH, process?.health ?? "") ? process.health : "down";
  const failing = Object.entries(process?.failing || {}).map(([check, why]) => `${check}: ${why}`);
  return {
    className: `health-${state}`,
    ...HEALTH[state],
    failing: state === "unready" ? failing : [],
  };
}

// How many processes are in each state, for the table's caption: "12 ok, 1
// unready, 0 down".
export function healthSummary(processes) {
  const counts = { ok: 0, unready: 0, down: 0 };
  for (const process of processes || []) counts[health(process).label] += 1;
  return `${counts.ok} ok, ${counts.unready} unready, ${counts.down} down`;
}

// An error's message as the table shows it: its first line, and the rest (a
// traceback, which a process keeps with the message) apart, to unfold.
export function errorLines(message) {
  const text = typeof message === "string" ? message : "";
  const [first, ...rest] = text.split("\n");
  return { summary: first.trim() || text.trim(), more: rest.join("\n").trim() };
}

// The query of `GET /api/dead-letters` (and of a purge) for the reason filter.
export function deadLetterQuery(reason, limit) {
  const params = {};
  const text = typeof reason === "string" ? reason.trim() : "";
  if (text) params.reason = text;
  if (limit) params.limit = limit;
  return params;
}

// "118 B", "1.2 KiB", "64.0 KiB": a body's size.
export function sizeText(bytes) {
  if (!known(bytes)) return NONE;
  const size = Number(bytes);
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KiB`;
  return `${(size / (1024 * 1024)).toFixed(1)} MiB`;
}

// A dead letter's headers as `[name, value]` rows, sorted by name; values that
// are not text shown as JSON.
export function headerRows(headers) {
  return Object.entries(headers || {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => [name, typeof value === "string" ? value : JSON.stringify(value)]);
}

// A dead letter's body to read: JSON indented, anything else as it came.
export function bodyText(detail) {
  const body = detail?.body ?? "";
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

function deadLetters(n) {
  return `${n} dead ${n === 1 ? "letter" : "letters"}`;
}

// What the confirmation of a purge asks.
export function purgeQuestion(reason) {
  const text = typeof reason === "string" ? reason.trim() : "";
  const which = text ? `every dead letter whose reason contains “${text}”` : "every dead letter";
  return `Delete ${which}? They cannot be inspected nor replayed afterwards.`;
}

// The outcome of an action on the dead letters, in words.
export function replayedText(result) {
  return `Replayed to ${result.exchange} ${result.routing_key}.`;
}

export function purgedText(result) {
  return `Purged ${deadLetters(result?.deleted ?? 0)}.`;
}

export function deletedText(letter) {
  return `Deleted the dead letter of ${letter.routing_key}.`;
}
