// The API reference at /api/docs: Swagger UI, from the platform's own files,
// renders every operation of /api/openapi.json without signing in, under the web
// server's Content-Security-Policy (a blocked script or style would be an error).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { APP_URL, assertQuiet, launch, openPage, screenshot } from "./browser.js";
import { api } from "./platform.js";

describe("the API reference", () => {
  let browser;

  before(async () => {
    browser = await launch();
  });
  after(async () => browser?.close());

  it("shows every operation of the OpenAPI document", async () => {
    const document = await api("/api/openapi.json");
    const operations = Object.values(document.paths).reduce((count, path) => count + Object.keys(path).length, 0);
    const page = await openPage(browser);
    const foreign = [];
    const failed = [];
    page.on("request", (request) => {
      if (new URL(request.url()).origin !== new URL(APP_URL).origin) foreign.push(request.url());
    });
    page.on("response", (response) => {
      if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
    });
    await page.goto("/api/docs");
    await page.getByRole("heading", { name: document.info.title }).first().waitFor();
    await page.locator(".opblock").first().waitFor();
    assert.equal(await page.locator(".opblock").count(), operations);
    await page.locator(".opblock-summary-path", { hasText: /^\/api\/auth\/login$/ }).first().waitFor();
    await screenshot(page, "api-docs-01-operations");
    assert.deepEqual(foreign, []);
    assert.deepEqual(failed, []);
    assertQuiet(page);
    await page.context().close();
  });
});
