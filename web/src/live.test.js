import { describe, expect, it, vi } from "vitest";
import { LiveConnection, SESSION_ENDED_CODE, STABLE_AFTER_MS, backoffDelay, socketUrl } from "./live.js";
import { DR_EVENT, OVERCONSUMPTION, SESSION_ENDED } from "./pushes.generated.js";

// A WebSocket stand-in: every instance is kept so a test can open, message and
// close it from the server's side.
function fakeWebSocketClass() {
  class FakeSocket {
    static instances = [];
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.closeCalls = [];
      FakeSocket.instances.push(this);
    }
    close(code, reason) {
      this.closeCalls.push([code, reason]);
      this.readyState = 3;
    }
    // What the server does:
    serverOpen() {
      this.readyState = 1;
      this.onopen?.({});
    }
    serverSend(data) {
      this.onmessage?.({ data: typeof data === "string" ? data : JSON.stringify(data) });
    }
    serverClose(code = 1006) {
      this.readyState = 3;
      this.onclose?.({ code });
    }
  }
  return FakeSocket;
}

// setTimeout / clearTimeout that only run when the test says so.
function fakeTimers() {
  let next = 0;
  const pending = new Map();
  return {
    pending,
    delays: [],
    // The reconnection delays (the timer that marks a connection stable aside).
    get retries() {
      return this.delays.filter((ms) => ms !== STABLE_AFTER_MS);
    },
    // Runs the pending timers of `ms` only.
    async run(ms) {
      const due = [...pending.entries()].filter(([, timer]) => timer.ms === ms);
      for (const [id] of due) pending.delete(id);
      for (const [, { fn }] of due) await fn();
      await flush();
    },
    setTimeout(fn, ms) {
      next += 1;
      pending.set(next, { fn, ms });
      this.delays.push(ms);
      return next;
    },
    clearTimeout(id) {
      pending.delete(id);
    },
    // Runs every pending timer and waits for what they started.
    async runAll() {
      const due = [...pending.entries()];
      pending.clear();
      for (const [, { fn }] of due) await fn();
      await flush();
    },
  };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

const LOCATION = { protocol: "http:", host: "app.localhost:8080" };

function setup(options = {}) {
  const WebSocketImpl = fakeWebSocketClass();
  const timers = fakeTimers();
  const onSessionEnded = vi.fn();
  const statuses = [];
  const live = new LiveConnection({
    token: "tok en",
    onSessionEnded,
    onStatus: (status) => statuses.push(status),
    WebSocketImpl,
    location: LOCATION,
    timers,
    random: () => 0,
    ...options,
  });
  const socket = () => WebSocketImpl.instances.at(-1);
  return { live, WebSocketImpl, timers, onSessionEnded, statuses, socket };
}

describe("backoffDelay", () => {
  const noJitter = { random: () => 0 };

  it("doubles from the base for each attempt", () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, noJitter))).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect(backoffDelay(2, { base: 500, random: () => 0 })).toBe(1000);
  });

  it("is capped at max", () => {
    expect(backoffDelay(6, noJitter)).toBe(30000);
    expect(backoffDelay(50, noJitter)).toBe(30000);
    expect(backoffDelay(4, { max: 5000, random: () => 0 })).toBe(5000);
  });

  it("treats attempt 0 or less as the first", () => {
    expect(backoffDelay(0, noJitter)).toBe(1000);
    expect(backoffDelay(-3, noJitter)).toBe(1000);
  });

  it("takes off up to 30 % at random", () => {
    expect(backoffDelay(1, { random: () => 1 })).toBe(700);
    expect(backoffDelay(1, { random: () => 0.5 })).toBe(850);
    expect(backoffDelay(10, { random: () => 1 })).toBe(21000);
    for (let i = 0; i < 200; i += 1) {
      const delay = backoffDelay(3);
      expect(delay).toBeGreaterThanOrEqual(2800);
      expect(delay).toBeLessThanOrEqual(4000);
    }
  });
});

describe("socketUrl", () => {
  it("uses ws: or wss: like the page and encodes the token", () => {
    expect(socketUrl({ protocol: "http:", host: "h:1" }, "a b")).toBe("ws://h:1/ws?token=a%20b");
    expect(socketUrl({ protocol: "https:", host: "h" }, "t")).toBe("wss://h/ws?token=t");
  });
});

describe("LiveConnection", () => {
  it("connects to /ws with the token and reports its status", () => {
    const { live, WebSocketImpl, socket, statuses } = setup();
    live.start();
    expect(WebSocketImpl.instances).toHaveLength(1);
    expect(socket().url).toBe("ws://app.localhost:8080/ws?token=tok%20en");
    expect(statuses).toEqual(["connecting"]);
    socket().serverOpen();
    expect(statuses).toEqual(["connecting", "open"]);
    expect(live.status).toBe("open");
  });

  it("hands each message to the listeners of its type and to '*'", () => {
    const { live, socket } = setup();
    const onDr = vi.fn();
    const onOther = vi.fn();
    const onAll = vi.fn();
    live.subscribe(DR_EVENT, onDr);
    live.subscribe(OVERCONSUMPTION, onOther);
    live.subscribe("*", onAll);
    live.start();
    socket().serverOpen();
    const message = { type: DR_EVENT, data: { change: "invited" }, ts: "2026-11-22T10:00:00Z" };
    socket().serverSend(message);
    expect(onDr).toHaveBeenCalledTimes(1);
    expect(onDr).toHaveBeenCalledWith(message);
    expect(onAll).toHaveBeenCalledWith(message);
    expect(onOther).not.toHaveBeenCalled();
  });

  it("stops calling a listener once unsubscribed", () => {
    const { live, socket } = setup();
    const listener = vi.fn();
    const unsubscribe = live.subscribe("x", listener);
    live.start();
    socket().serverSend({ type: "x" });
    unsubscribe();
    socket().serverSend({ type: "x" });
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it("ignores bad JSON and messages without a type", () => {
    const { live, socket } = setup();
    const onAll = vi.fn();
    live.subscribe("*", onAll);
    live.start();
    socket().serverSend("{not json");
    socket().serverSend("null");
    socket().serverSend({ data: {} });
    socket().serverSend({ type: 42 });
    expect(onAll).not.toHaveBeenCalled();
    socket().serverSend({ type: "ok" });
    expect(onAll).toHaveBeenCalledTimes(1);
  });

  it("keeps dispatching when one listener throws", () => {
    const { live, socket } = setup();
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const after = vi.fn();
    live.subscribe("x", () => {
      throw new Error("boom");
    });
    live.subscribe("x", after);
    live.start();
    socket().serverSend({ type: "x" });
    expect(after).toHaveBeenCalledTimes(1);
    expect(error).toHaveBeenCalled();
    error.mockRestore();
  });

  it("ends the session once with the reason of session.ended, then close 4001", async () => {
    const { live, socket, timers, onSessionEnded, statuses, WebSocketImpl } = setup();
    const listener = vi.fn();
    live.subscribe(SESSION_ENDED, listener);
    live.start();
    socket().serverOpen();
    socket().serverSend({ type: SESSION_ENDED, data: { reason: "role_changed" } });
    expect(listener).toHaveBeenCalledTimes(1);
    socket().serverClose(SESSION_ENDED_CODE);
    expect(onSessionEnded).toHaveBeenCalledTimes(1);
    expect(onSessionEnded).toHaveBeenCalledWith("role_changed");
    expect(statuses.at(-1)).toBe("closed");
    // No reconnection, and nothing more reported.
    expect(timers.pending.size).toBe(0);
    await timers.runAll();
    expect(WebSocketImpl.instances).toHaveLength(1);
    socket().serverClose(SESSION_ENDED_CODE);
    expect(onSessionEnded).toHaveBeenCalledTimes(1);
  });

  it("ends the session as revoked on a bare close 4001", () => {
    const { live, socket, onSessionEnded, timers } = setup();
    live.start();
    socket().serverOpen();
    socket().serverClose(SESSION_ENDED_CODE);
    expect(onSessionEnded).toHaveBeenCalledTimes(1);
    expect(onSessionEnded).toHaveBeenCalledWith("revoked");
    expect(timers.pending.size).toBe(0);
  });

  it("ends the session after session.ended even if the close code is ordinary", () => {
    const { live, socket, onSessionEnded, timers } = setup();
    live.start();
    socket().serverOpen();
    socket().serverSend({ type: SESSION_ENDED, data: { reason: "user_deleted" } });
    socket().serverClose(1000);
    expect(onSessionEnded).toHaveBeenCalledWith("user_deleted");
    expect(onSessionEnded).toHaveBeenCalledTimes(1);
    expect(timers.pending.size).toBe(0);
  });

  it("reconnects after other closes with growing delays", async () => {
    const { live, socket, timers, WebSocketImpl, statuses, onSessionEnded } = setup({ checkSession: async () => true });
    live.start();
    socket().serverOpen();
    socket().serverClose(1006);
    expect(statuses.at(-1)).toBe("reconnecting");
    expect(timers.retries).toEqual([1000]);
    await timers.run(1000);
    expect(WebSocketImpl.instances).toHaveLength(2);
    socket().serverClose(1006); // the retry fails too
    expect(timers.retries).toEqual([1000, 2000]);
    await timers.run(2000);
    socket().serverOpen(); // accepted, then dropped at once: still backing off
    socket().serverClose(1006);
    expect(timers.retries).toEqual([1000, 2000, 4000]);
    expect(onSessionEnded).not.toHaveBeenCalled();
  });

  it("starts the back-off over once a connection has stayed open", async () => {
    const { live, socket, timers, statuses } = setup({ checkSession: async () => true });
    live.start();
    socket().serverClose(1006);
    await timers.run(1000);
    socket().serverClose(1006);
    await timers.run(2000);
    socket().serverOpen();
    expect(statuses.at(-1)).toBe("open");
    await timers.run(STABLE_AFTER_MS);
    socket().serverClose(1011);
    expect(timers.retries.at(-1)).toBe(1000);
  });

  it("opens one socket however often it is started", () => {
    const { live, WebSocketImpl } = setup();
    live.start();
    live.start();
    expect(WebSocketImpl.instances).toHaveLength(1);
  });

  it("caps the reconnection delay", async () => {
    const { live, socket, timers } = setup({ checkSession: async () => true });
    live.start();
    for (let i = 0; i < 8; i += 1) {
      socket().serverClose(1006);
      await timers.runAll();
    }
    expect(timers.retries).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it("ends the session as unauthorized when checkSession says the token is gone", async () => {
    const checkSession = vi.fn(async () => false);
    const { live, socket, timers, onSessionEnded, WebSocketImpl, statuses } = setup({ checkSession });
    live.start();
    socket().serverOpen();
    socket().serverClose(1006);
    await timers.runAll(); // the first retry is made without asking
    expect(checkSession).not.toHaveBeenCalled();
    expect(WebSocketImpl.instances).toHaveLength(2);
    socket().serverClose(1006);
    await timers.runAll();
    expect(checkSession).toHaveBeenCalledTimes(1);
    expect(onSessionEnded).toHaveBeenCalledTimes(1);
    expect(onSessionEnded).toHaveBeenCalledWith("unauthorized");
    expect(WebSocketImpl.instances).toHaveLength(2);
    expect(timers.pending.size).toBe(0);
    expect(statuses.at(-1)).toBe("closed");
  });

  it("keeps trying when checkSession itself fails", async () => {
    const checkSession = vi.fn(async () => {
      throw new Error("API down");
    });
    const { live, socket, timers, onSessionEnded, WebSocketImpl } = setup({ checkSession });
    live.start();
    socket().serverClose(1006);
    await timers.runAll();
    socket().serverClose(1006);
    await timers.runAll();
    expect(checkSession).toHaveBeenCalledTimes(1);
    expect(onSessionEnded).not.toHaveBeenCalled();
    expect(WebSocketImpl.instances).toHaveLength(3);
  });

  it("stop() closes the socket and prevents any reconnection", async () => {
    const { live, socket, timers, WebSocketImpl, statuses, onSessionEnded } = setup();
    live.start();
    const first = socket();
    first.serverOpen();
    live.stop();
    expect(first.closeCalls).toEqual([[1000, "signed out"]]);
    expect(statuses.at(-1)).toBe("closed");
    first.serverClose(1000); // the close arriving afterwards changes nothing
    expect(timers.pending.size).toBe(0);
    await timers.runAll();
    expect(WebSocketImpl.instances).toHaveLength(1);
    expect(onSessionEnded).not.toHaveBeenCalled();
  });

  it("stop() cancels a pending reconnection", async () => {
    const { live, socket, timers, WebSocketImpl } = setup();
    live.start();
    socket().serverClose(1006);
    expect(timers.pending.size).toBe(1);
    live.stop();
    expect(timers.pending.size).toBe(0);
    await timers.runAll();
    expect(WebSocketImpl.instances).toHaveLength(1);
  });

  it("stop() during a session check does not reconnect", async () => {
    let answer;
    const checkSession = vi.fn(() => new Promise((resolve) => (answer = resolve)));
    const { live, socket, timers, WebSocketImpl, onSessionEnded } = setup({ checkSession });
    live.start();
    socket().serverClose(1006);
    await timers.runAll();
    socket().serverClose(1006);
    const [[, { fn }]] = [...timers.pending.entries()];
    timers.pending.clear();
    const running = fn();
    live.stop();
    answer(false);
    await running;
    expect(WebSocketImpl.instances).toHaveLength(2);
    expect(onSessionEnded).not.toHaveBeenCalled();
  });

  it("reports each status change once", () => {
    const { live, socket, statuses } = setup();
    live.start();
    socket().serverOpen();
    socket().serverClose(1006);
    live.stop();
    live.stop();
    expect(statuses).toEqual(["connecting", "open", "reconnecting", "closed"]);
  });

  it("ignores events of a socket it has replaced", async () => {
    const { live, socket, timers, WebSocketImpl } = setup();
    const onAll = vi.fn();
    live.subscribe("*", onAll);
    live.start();
    const old = socket();
    old.serverClose(1006);
    await timers.runAll();
    expect(WebSocketImpl.instances).toHaveLength(2);
    old.serverSend({ type: "late" });
    old.serverClose(SESSION_ENDED_CODE);
    expect(onAll).not.toHaveBeenCalled();
    expect(live.status).toBe("reconnecting");
  });
});
