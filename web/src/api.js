// The platform's HTTP API, as the app calls it: JSON in and out, the bearer token
// on every call, and errors as ApiError with the contract's code, message and
// per-field details.

export class ApiError extends Error {
  constructor(status, body) {
    const message = body?.message || `The request failed (HTTP ${status}).`;
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = body?.error || "HTTP_ERROR";
    this.details = body?.details || {};
    this.retryAfter = null;
  }

  // The message for one form field, when the server named it (messages of a
  // list's items or a nested object are joined).
  field(name) {
    const value = this.details?.[name];
    return value ? flatten(value) : null;
  }
}

function flatten(value) {
  if (Array.isArray(value)) return value.map(flatten).join(" ");
  if (value && typeof value === "object") return Object.values(value).map(flatten).join(" ");
  return String(value);
}

// Retry-After in seconds, given as seconds or as an HTTP date.
export function retryAfterSeconds(header, now = Date.now()) {
  if (header === null || header === undefined || header === "") return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

export class NetworkError extends Error {
  constructor(cause) {
    super("The platform cannot be reached. Check your connection and try again.");
    this.name = "NetworkError";
    this.status = 0;
    this.cause = cause;
  }
}

// Query string from an object, leaving out empty values.
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// A client bound to a token source and to what happens when the server says the
// token is no longer good (401 on an authenticated call).
export function createClient({ getToken, onUnauthorized, fetchImpl } = {}) {
  const doFetch = fetchImpl || ((...args) => globalThis.fetch(...args));

  async function request(method, path, { body, signal, anonymous = false, raw = false } = {}) {
    const headers = { Accept: "application/json" };
    const token = anonymous ? null : getToken?.();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await doFetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        credentials: "omit",
      });
    } catch (error) {
      if (error?.name === "AbortError") throw error;
      throw new NetworkError(error);
    }
    if (response.status === 204) return null;
    if (raw && response.ok) return response;
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!response.ok) {
      const error = new ApiError(response.status, data);
      error.retryAfter = retryAfterSeconds(response.headers.get("Retry-After"));
      if (response.status === 401 && token) onUnauthorized?.(error);
      throw error;
    }
    return data;
  }

  return {
    get: (path, options) => request("GET", path, options),
    post: (path, body, options) => request("POST", path, { ...options, body }),
    patch: (path, body, options) => request("PATCH", path, { ...options, body }),
    put: (path, body, options) => request("PUT", path, { ...options, body }),
    del: (path, options) => request("DELETE", path, options),
    // A file the API sends (a CSV export): its content and the name it is sent
    // under, for the browser to save.
    download: async (path, options) => {
      const response = await request("GET", path, { ...options, raw: true });
      return { blob: await response.blob(), filename: attachmentName(response.headers.get("Content-Disposition")) };
    },
  };
}

// The file name of a `Content-Disposition: attachment; filename="…"` header.
export function attachmentName(header, fallback = "export.csv") {
  const match = /filename="?([^";]+)"?/i.exec(header || "");
  return match ? match[1] : fallback;
}

// Saves `blob` as `filename` through the browser's download.
export function saveFile({ blob, filename }) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
