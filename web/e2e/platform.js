// What the browser scenarios need of the platform besides the browser: its API (to
// set up what a scenario is not about), the simulator, and tokens signed with the
// stack's key. The environment comes from tests/integration/test_web_app.py.
import { spawn } from "node:child_process";
import { randomBytes, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect } from "node:net";

export const API_URL = process.env.EMS_API_URL || "http://127.0.0.1:8080";
export const ADMIN = {
  email: process.env.EMS_ADMIN_EMAIL || "admin@ems.localhost",
  password: process.env.EMS_ADMIN_PASSWORD,
};

export async function api(path, { method = "GET", body, token } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(API_URL + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
  return data;
}

export function newAccount(prefix) {
  const tag = randomBytes(4).toString("hex");
  return {
    name: `${prefix} ${tag}`,
    email: `${prefix.toLowerCase().replace(/\W+/g, "-")}-${tag}@example.com`,
    password: `pw-${randomBytes(8).toString("hex")}`,
  };
}

export async function register(account) {
  const user = await api("/api/auth/register", {
    method: "POST",
    body: { email: account.email, password: account.password, name: account.name },
  });
  return { ...account, id: user.id };
}

export async function tokenOf(account) {
  const result = await api("/api/auth/login", {
    method: "POST",
    body: { email: account.email, password: account.password },
  });
  return result.access_token;
}

// `ems simulate` feeding every device of `account`, live, until `stop()`. Its
// readings follow each kind's daily profile as a fraction of the device's limit;
// `spikes` is the chance that one is a spike above the limit. With `commands`
// the devices log in over MQTT with logins of their own, say they are online,
// obey their commands and answer them, and say they go offline when stopped.
export function startSimulator(account, { rate = 2, spikes = 0, commands = false } = {}) {
  const child = spawn(
    "ems",
    [
      "simulate",
      "--email",
      account.email,
      "--password",
      account.password,
      "--rate",
      String(rate),
      "--relist",
      "2",
      "--spike-probability",
      String(spikes),
      "--quiet",
      ...(commands ? ["--commands"] : []),
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: process.env },
  );
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  return {
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.on("exit", resolve);
        child.kill("SIGTERM");
      }),
  };
}

function base64url(value) {
  return Buffer.from(value).toString("base64url");
}

// `token` with `changes` to its claims, signed with the platform's own key (as
// auth would sign it): a genuine token that, say, expires in a few seconds.
export function resign(token, changes) {
  const claims = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
  const header = base64url(JSON.stringify({ alg: "EdDSA", typ: "JWT" }));
  const payload = base64url(JSON.stringify({ ...claims, ...changes }));
  const key = readFileSync(process.env.EMS_JWT_PRIVATE_KEY, "utf8");
  const signature = sign(null, Buffer.from(`${header}.${payload}`), key).toString("base64url");
  return `${header}.${payload}.${signature}`;
}

// Kills or starts a process of the platform (`kill`, `start`), through the test
// run that started it.
export async function control(action, name) {
  const response = await fetch(`${process.env.EMS_TEST_CONTROL_URL}/processes/${name}/${action}`, { method: "POST" });
  if (!response.ok) throw new Error(`${action} ${name}: HTTP ${response.status}`);
}

// Restarts a process of the platform with `environment` on top of its own, through
// the test run that started it, which restarts it as it was after the scenario.
export async function reconfigure(name, environment) {
  const response = await fetch(`${process.env.EMS_TEST_CONTROL_URL}/processes/${name}/reconfigure`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ environment }),
  });
  if (!response.ok) throw new Error(`reconfigure ${name}: HTTP ${response.status}`);
}

// Waits until auth, just started, takes logins (a wrong password is refused).
export async function authAnswers(timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${API_URL}/api/auth/login`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: "nobody@example.com", password: "x" }),
    }).catch(() => null);
    if (response?.status === 401) return;
    if (Date.now() > deadline) throw new Error("auth did not come back");
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function run(command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: process.env });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(output) : reject(new Error(`${command} ${args.join(" ")}: exit ${code}\n${output}`))));
  });
}

// `days` of history for every device of `account`, one reading an hour, through
// the real pipeline (`ems simulate --start`), waiting until all are confirmed.
export function backfill(account, days) {
  const start = new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 19) + "Z";
  return run("ems", ["simulate", "--email", account.email, "--password", account.password, "--start", start, "--interval", "1h", "--spike-probability", "0", "--quiet"]);
}

// Moves a DR event into the past, in dr's own database: the API only announces
// events in the future, and the scenario cannot wait for one to end.
export function backdateEvent(eventId, start, end) {
  const server = (process.env.EMS_PG_URL || "postgresql://ems:ems@127.0.0.1:5432").replace(/^postgresql\+\w+:/, "postgresql:");
  const database = `${process.env.EMS_DB_PREFIX || ""}drdb`;
  const sql = `UPDATE events SET start = '${start}', "end" = '${end}' WHERE id = '${eventId}'`;
  if (!/^[\w-]+$/.test(eventId)) throw new Error(`not an id: ${eventId}`);
  return run("psql", ["-q", "-v", "ON_ERROR_STOP=1", `${server}/${database}`, "-c", sql]);
}

// MQTT 3.1.1 strings and lengths, as the protocol frames them.
function mqttString(text) {
  const bytes = Buffer.from(text, "utf8");
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function mqttPacket(type, body) {
  const length = [];
  let rest = body.length;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    length.push(byte);
  } while (rest > 0);
  return Buffer.concat([Buffer.from([type, ...length]), body]);
}

// One message published at QoS 1 by a device of its own, as a real device would:
// CONNECT with the login the platform gave it, PUBLISH, and the broker's PUBACK.
// Resolves with `{ connack, puback }`: the CONNACK's return code (0: the login was
// accepted) and whether the broker took the message; the few bytes of MQTT this
// needs are written here rather than adding a client library to the app.
export function publishOverMqtt({ host = "127.0.0.1", port, clientId, username, password, topic, message }, timeout = 10_000) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const result = { connack: null, puback: false };
    let received = Buffer.alloc(0);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(finish, timeout);
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on("close", finish);
    socket.on("connect", () => {
      const header = Buffer.concat([mqttString("MQTT"), Buffer.from([4, 0xc2, 0, 30])]);
      const payload = Buffer.concat([mqttString(clientId), mqttString(username), mqttString(password)]);
      socket.write(mqttPacket(0x10, Buffer.concat([header, payload])));
    });
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      // CONNACK and PUBACK are both four bytes: type, length 2, two more.
      while (received.length >= 4) {
        const [type, , first, second] = received;
        received = received.subarray(4);
        if (type === 0x20) {
          result.connack = second;
          if (second !== 0) return finish();
          const body = Buffer.concat([mqttString(topic), Buffer.from([0, 1]), Buffer.from(JSON.stringify(message))]);
          socket.write(mqttPacket(0x32, body));
        } else if (type === 0x40 && first === 0 && second === 1) {
          result.puback = true;
          socket.end(Buffer.from([0xe0, 0]));
          return finish();
        } else {
          return finish();
        }
      }
    });
  });
}

// The e-mail the stack sent to `address`, as its maildev holds it (REST API).
export const INBOX_URL = `http://127.0.0.1:${process.env.EMS_MAIL_INBOX_PORT || 1080}`;

export async function mailsTo(address) {
  const response = await fetch(`${INBOX_URL}/api/email`);
  if (!response.ok) return [];
  const mails = await response.json();
  return mails.filter((mail) => mail.to.some((to) => to.address.toLowerCase() === address.toLowerCase()));
}

// The `count`-th e-mail to `address`, once it has arrived.
export async function waitForMail(address, count = 1, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mails = await mailsTo(address);
    if (mails.length >= count) return mails[count - 1];
    if (Date.now() > deadline) throw new Error(`no e-mail ${count} to ${address}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

// The link an e-mail carries to the web app.
export function linkIn(mail) {
  const match = /https?:\/\/\S+#token=[\w-]+/.exec(mail.text);
  if (!match) throw new Error(`no link in: ${mail.text}`);
  return match[0];
}
