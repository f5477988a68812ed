import { describe, expect, it, vi } from "vitest";
import { ApiError, NetworkError, attachmentName, createClient, query, retryAfterSeconds } from "./api.js";

// A Response-like object, as fetch resolves it.
function reply(status, body, headers = {}) {
  const text = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    status,
    ok: status >= 200 && status < 300,
    headers: { get: (name) => lower[name.toLowerCase()] ?? null },
    text: vi.fn(async () => text),
  };
}

// A client whose fetch answers `responses` in turn and records its calls.
function client({ token = "tok", responses = [reply(200, {})], onUnauthorized = vi.fn() } = {}) {
  const queue = [...responses];
  const fetchImpl = vi.fn(async () => {
    const next = queue.shift();
    if (next instanceof Error) throw next;
    return next;
  });
  const api = createClient({ getToken: () => token, onUnauthorized, fetchImpl });
  return { api, fetchImpl, onUnauthorized };
}

async function caught(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

describe("query", () => {
  it("leaves out empty values and encodes the rest", () => {
    expect(query({ a: 1, b: "", c: null, d: undefined, e: "x y" })).toBe("?a=1&e=x+y");
    expect(query({})).toBe("");
    expect(query()).toBe("");
  });
});

describe("createClient", () => {
  it("sends JSON with the bearer token and returns the parsed body", async () => {
    const { api, fetchImpl } = client({ responses: [reply(201, { id: "d1" })] });
    const result = await api.post("/api/devices", { name: "Meter" });
    expect(result).toEqual({ id: "d1" });
    expect(fetchImpl).toHaveBeenCalledTimes(1);
    const [path, init] = fetchImpl.mock.calls[0];
    expect(path).toBe("/api/devices");
    expect(init.method).toBe("POST");
    expect(init.body).toBe('{"name":"Meter"}');
    expect(init.credentials).toBe("omit");
    expect(init.headers).toEqual({
      Accept: "application/json",
      Authorization: "Bearer tok",
      "Content-Type": "application/json",
    });
  });

  it("sends no body and no Content-Type on GET and DELETE", async () => {
    const { api, fetchImpl } = client({ responses: [reply(200, []), reply(204)] });
    await api.get("/api/devices");
    await api.del("/api/devices/d1");
    for (const [, init] of fetchImpl.mock.calls) {
      expect(init.body).toBeUndefined();
      expect(init.headers["Content-Type"]).toBeUndefined();
    }
    expect(fetchImpl.mock.calls.map(([, init]) => init.method)).toEqual(["GET", "DELETE"]);
  });

  it("uses PATCH for patch", async () => {
    const { api, fetchImpl } = client({ responses: [reply(200, { role: "ADMIN" })] });
    expect(await api.patch("/api/users/u1", { role: "ADMIN" })).toEqual({ role: "ADMIN" });
    expect(fetchImpl.mock.calls[0][1].method).toBe("PATCH");
    expect(fetchImpl.mock.calls[0][1].body).toBe('{"role":"ADMIN"}');
  });

  it("uses PUT for put", async () => {
    const { api, fetchImpl } = client({ responses: [reply(200, { control: "manual" })] });
    expect(await api.put("/api/batteries/b1/control", { control: "manual" })).toEqual({ control: "manual" });
    expect(fetchImpl.mock.calls[0][1].method).toBe("PUT");
    expect(fetchImpl.mock.calls[0][1].body).toBe('{"control":"manual"}');
  });

  it("sends no Authorization header without a token or on anonymous calls", async () => {
    const anonymous = client({ token: null });
    await anonymous.api.get("/api/health");
    expect(anonymous.fetchImpl.mock.calls[0][1].headers.Authorization).toBeUndefined();

    const withToken = client();
    await withToken.api.post("/api/auth/login", { email: "a@b.c" }, { anonymous: true });
    expect(withToken.fetchImpl.mock.calls[0][1].headers.Authorization).toBeUndefined();
  });

  it("reads the token at each call", async () => {
    let token = "first";
    const fetchImpl = vi.fn(async () => reply(200, {}));
    const api = createClient({ getToken: () => token, fetchImpl });
    await api.get("/a");
    token = "second";
    await api.get("/b");
    expect(fetchImpl.mock.calls.map(([, init]) => init.headers.Authorization)).toEqual([
      "Bearer first",
      "Bearer second",
    ]);
  });

  it("passes the abort signal on", async () => {
    const { api, fetchImpl } = client();
    const controller = new AbortController();
    await api.get("/api/devices", { signal: controller.signal });
    expect(fetchImpl.mock.calls[0][1].signal).toBe(controller.signal);
  });

  it("answers null for 204 without reading the body", async () => {
    const response = reply(204);
    const { api } = client({ responses: [response] });
    expect(await api.del("/api/users/u1")).toBeNull();
    expect(response.text).not.toHaveBeenCalled();
  });

  it("answers null for an empty 200 body", async () => {
    const { api } = client({ responses: [reply(200)] });
    expect(await api.get("/x")).toBeNull();
  });

  it("maps an error body to ApiError with status, code, message and details", async () => {
    const body = {
      error: "VALIDATION_ERROR",
      message: "invalid request",
      details: { name: ["Length must be between 1 and 200."], email: ["Not a valid email.", "Too long."] },
    };
    const { api } = client({ responses: [reply(400, body)] });
    const error = await caught(api.post("/api/users", {}));
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("ApiError");
    expect(error.status).toBe(400);
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.message).toBe("invalid request");
    expect(error.details).toEqual(body.details);
    expect(error.field("name")).toBe("Length must be between 1 and 200.");
    expect(error.field("email")).toBe("Not a valid email. Too long.");
    expect(error.field("password")).toBeNull();
    expect(error.retryAfter).toBeNull();
  });

  it("gives a generic error when the body is not the contract's", async () => {
    const { api } = client({ responses: [reply(502, "<html>Bad gateway</html>")] });
    const error = await caught(api.get("/api/devices"));
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(502);
    expect(error.code).toBe("HTTP_ERROR");
    expect(error.message).toBe("The request failed (HTTP 502).");
    expect(error.details).toEqual({});
    expect(error.field("name")).toBeNull();
  });

  it("keeps Retry-After in seconds", async () => {
    const { api } = client({
      token: null,
      responses: [reply(429, { error: "RATE_LIMITED", message: "Too many requests.", details: {} }, { "Retry-After": "30" })],
    });
    const error = await caught(api.post("/api/auth/login", {}, { anonymous: true }));
    expect(error.status).toBe(429);
    expect(error.code).toBe("RATE_LIMITED");
    expect(error.retryAfter).toBe(30);
  });

  it("calls onUnauthorized on a 401 of an authenticated call, with the error", async () => {
    const { api, onUnauthorized } = client({
      responses: [reply(401, { error: "UNAUTHORIZED", message: "token revoked", details: {} })],
    });
    const error = await caught(api.get("/api/auth/me"));
    expect(error.status).toBe(401);
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    expect(onUnauthorized).toHaveBeenCalledWith(error);
  });

  it("does not call onUnauthorized on a 401 of an anonymous call (bad credentials)", async () => {
    const { api, onUnauthorized } = client({
      responses: [reply(401, { error: "UNAUTHORIZED", message: "bad credentials", details: {} })],
    });
    const error = await caught(api.post("/api/auth/login", { email: "a", password: "b" }, { anonymous: true }));
    expect(error.status).toBe(401);
    expect(error.message).toBe("bad credentials");
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it("does not call onUnauthorized without a token, nor on 403", async () => {
    const anonymous = client({ token: null, responses: [reply(401, { error: "UNAUTHORIZED", message: "no", details: {} })] });
    await caught(anonymous.api.get("/api/auth/me"));
    expect(anonymous.onUnauthorized).not.toHaveBeenCalled();

    const forbidden = client({ responses: [reply(403, { error: "FORBIDDEN", message: "no", details: {} })] });
    const error = await caught(forbidden.api.get("/api/users"));
    expect(error.code).toBe("FORBIDDEN");
    expect(forbidden.onUnauthorized).not.toHaveBeenCalled();
  });

  it("turns a failed fetch into NetworkError keeping the cause", async () => {
    const cause = new TypeError("Failed to fetch");
    const { api } = client({ responses: [cause] });
    const error = await caught(api.get("/api/devices"));
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).not.toBeInstanceOf(ApiError);
    expect(error.status).toBe(0);
    expect(error.cause).toBe(cause);
    expect(error.message).toMatch(/cannot be reached/);
  });

  it("lets an abort through as itself", async () => {
    const abort = Object.assign(new Error("aborted"), { name: "AbortError" });
    const { api } = client({ responses: [abort] });
    const error = await caught(api.get("/api/devices"));
    expect(error).toBe(abort);
  });
});

describe("download", () => {
  it("gives the file and the name it is sent under", async () => {
    const response = reply(200, "start,import_kwh\n", {
      "Content-Disposition": 'attachment; filename="energy-site-2026-03.csv"',
    });
    response.blob = vi.fn(async () => "the blob");
    const { api, fetchImpl } = client({ responses: [response] });
    expect(await api.download("/api/export/energy.csv?scope=site")).toEqual({
      blob: "the blob",
      filename: "energy-site-2026-03.csv",
    });
    expect(fetchImpl.mock.calls[0][1].headers.Authorization).toBe("Bearer tok");
  });

  it("raises the API's error for a refused export", async () => {
    const { api } = client({ responses: [reply(404, { error: "NOT_FOUND", message: "No such site." })] });
    const error = await caught(api.download("/api/export/energy.csv?scope=site&id=x"));
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(404);
  });

  it("names a file sent without a name", () => {
    expect(attachmentName(null)).toBe("export.csv");
    expect(attachmentName("attachment; filename=readings.csv")).toBe("readings.csv");
  });
});

describe("retryAfterSeconds", () => {
  it("reads seconds and HTTP dates", () => {
    const now = Date.parse("2026-11-22T10:00:00Z");
    expect(retryAfterSeconds("30", now)).toBe(30);
    expect(retryAfterSeconds("0", now)).toBe(0);
    expect(retryAfterSeconds("Sun, 22 Nov 2026 10:00:45 GMT", now)).toBe(45);
    expect(retryAfterSeconds("soon", now)).toBeNull();
    expect(retryAfterSeconds(null, now)).toBeNull();
  });
});

describe("ApiError.field", () => {
  it("joins the messages of a list's items", () => {
    const error = new ApiError(400, {
      error: "VALIDATION_ERROR",
      message: "Invalid input.",
      details: { user_ids: { 0: ["Not a valid id."], 2: ["Not a valid id."] } },
    });
    expect(error.field("user_ids")).toBe("Not a valid id. Not a valid id.");
  });
});
