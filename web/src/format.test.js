import { describe, expect, it } from "vitest";
import { axisNumber } from "./format.js";

describe("axisNumber", () => {
  it("writes tiny values without an exponent", () => {
    expect(axisNumber(0.000045)).toBe("0.000045");
  });

  it("keeps three significant digits", () => {
    expect(axisNumber(1.23456)).toBe("1.23");
    expect(axisNumber(1234.5)).toBe("1,230");
  });

  it("writes zero as 0", () => {
    expect(axisNumber(0)).toBe("0");
  });
});
