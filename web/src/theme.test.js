import { describe, expect, it } from "vitest";
import { applyTheme, linkToken, themeAttribute } from "./theme.js";

function fakeRoot() {
  const attributes = {};
  return {
    attributes,
    setAttribute: (name, value) => (attributes[name] = value),
    removeAttribute: (name) => delete attributes[name],
  };
}

describe("the theme", () => {
  it("is the account's when it chose light or dark, the system's otherwise", () => {
    expect(themeAttribute("dark")).toBe("dark");
    expect(themeAttribute("light")).toBe("light");
    expect(themeAttribute("system")).toBeNull();
    expect(themeAttribute(undefined)).toBeNull();
  });

  it("is set on the root element, and taken off to follow the system", () => {
    const root = fakeRoot();
    applyTheme("dark", root);
    expect(root.attributes["data-theme"]).toBe("dark");
    applyTheme("system", root);
    expect(root.attributes).toEqual({});
  });
});

describe("an e-mailed link's token", () => {
  it("is read from the fragment", () => {
    expect(linkToken("#token=abc_-9")).toBe("abc_-9");
    expect(linkToken("")).toBeNull();
    expect(linkToken("#other=1")).toBeNull();
  });
});
