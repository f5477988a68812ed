// The app's one WebSocket to /ws: it hands each server message to the listeners of
// its type, reconnects with capped exponential back-off and jitter when the
// connection drops, and reports `session.ended` / close 4001 once, so the app can
// sign out and say why.

import { SESSION_ENDED } from "./pushes.generated.js";

export const SESSION_ENDED_CODE = 4001;

// A connection counts as good again (the back-off starts over) once it has stayed
// open this long: a server that accepts and at once drops would otherwise be
// retried every second for ever.
export const STABLE_AFTER_MS = 5000;

// Delay before reconnection attempt `attempt` (1, 2, ...): 1 s, 2 s, 4 s ... up to
// `max`, each with up to 30 % random jitter so clients do not return in step.
export function backoffDelay(attempt, { base = 1000, max = 30000, random = Math.random } = {}) {
  const delay = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return Math.round(delay * (1 - 0.3 * random()));
}

export function socketUrl(location, token) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws?token=${encodeURIComponent(token)}`;
}

export class LiveConnection {
  // token: the access token; onSessionEnded(reason): the server ended the session;
  // onStatus(status): "connecting" | "open" | "reconnecting" | "closed";
  // checkSession(): resolves false when the token is no longer accepted (asked
  // before reconnecting, since a refused handshake looks like any dropped one).
  constructor({
    token,
    onSessionEnded,
    onStatus,
    checkSession,
    WebSocketImpl = globalThis.WebSocket,
    location = globalThis.location,
    timers = globalThis,
    random = Math.random,
  }) {
    this.token = token;
    this.onSessionEnded = onSessionEnded;
    this.onStatus = onStatus;
    this.checkSession = checkSession;
    this.WebSocketImpl = WebSocketImpl;
    this.location = location;
    this.timers = timers;
    this.random = random;
    this.listeners = new Map();
    this.attempt = 0;
    this.socket = null;
    this.timer = null;
    this.stableTimer = null;
    this.stopped = false;
    this.endReason = null;
    this.status = "closed";
  }

  // Listen to messages of `type` ("*" for all); returns the function that stops it.
  subscribe(type, listener) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(listener);
    return () => this.listeners.get(type)?.delete(listener);
  }

  start() {
    if (this.socket || this.timer) return;
    this.stopped = false;
    this.open();
  }

  stop() {
    this.stopped = true;
    if (this.timer) this.timers.clearTimeout(this.timer);
    if (this.stableTimer) this.timers.clearTimeout(this.stableTimer);
    this.timer = null;
    this.stableTimer = null;
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState <= 1) socket.close(1000, "signed out");
    this.setStatus("closed");
  }

  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.onStatus?.(status);
  }

  open() {
    if (this.stopped) return;
    this.setStatus(this.attempt ? "reconnecting" : "connecting");
    const socket = new this.WebSocketImpl(socketUrl(this.location, this.token));
    this.socket = socket;
    socket.onopen = () => {
      if (socket !== this.socket) return;
      this.setStatus("open");
      this.stableTimer = this.timers.setTimeout(() => {
        this.stableTimer = null;
        if (socket === this.socket) this.attempt = 0;
      }, STABLE_AFTER_MS);
    };
    socket.onmessage = (event) => {
      if (socket !== this.socket) return;
      this.dispatch(event.data);
    };
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      this.socket = null;
      if (this.stableTimer) this.timers.clearTimeout(this.stableTimer);
      this.stableTimer = null;
      if (event.code === SESSION_ENDED_CODE || this.endReason) {
        this.end(this.endReason || "revoked");
      } else {
        this.scheduleReconnect();
      }
    };
  }

  dispatch(raw) {
    let message;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    if (!message || typeof message.type !== "string") return;
    if (message.type === SESSION_ENDED) {
      this.endReason = message.data?.reason || "revoked";
    }
    for (const key of [message.type, "*"]) {
      for (const listener of this.listeners.get(key) || []) {
        try {
          listener(message);
        } catch (error) {
          console.error("live listener failed", error);
        }
      }
    }
  }

  end(reason) {
    if (this.stopped) return;
    this.stop();
    this.onSessionEnded?.(reason);
  }

  scheduleReconnect() {
    if (this.stopped) return;
    this.attempt += 1;
    this.setStatus("reconnecting");
    const delay = backoffDelay(this.attempt, { random: this.random });
    this.timer = this.timers.setTimeout(async () => {
      if (this.stopped) return;
      if (this.attempt > 1 && this.checkSession) {
        // The API down too counts as valid: keep trying, the socket may return first.
        const valid = await this.checkSession().catch(() => true);
        if (!valid) {
          this.timer = null;
          this.end("unauthorized");
          return;
        }
      }
      this.timer = null;
      if (!this.stopped) this.open();
    }, delay);
  }
}
