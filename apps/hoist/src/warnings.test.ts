import { describe, expect, it } from "vitest";
import { colorAllowed, parseWarning, splitWarningHeader, WarningCollector } from "./warnings.js";

describe("registry warnings", () => {
  it("keeps only 299 warnings from agent -", () => {
    expect(parseWarning('299 - "deprecated"')).toBe("deprecated");
    expect(parseWarning('199 - "misc"')).toBeUndefined();
    expect(parseWarning('299 agent "x"')).toBeUndefined();
    expect(parseWarning("299 - no quotes")).toBeUndefined();
  });

  it("splits combined headers without breaking quoted commas", () => {
    expect(splitWarningHeader('299 - "a, b", 299 - "c"')).toEqual(['299 - "a, b"', '299 - "c"']);
  });

  it("reports each text once, sorted, coloured only when allowed", () => {
    const collector = new WarningCollector();
    collector.addHeader('299 - "zebra"');
    collector.addHeader('299 - "apple", 299 - "zebra"');
    collector.addHeader(null);
    expect(collector.report({ color: false })).toEqual(["[WARNING]: apple", "[WARNING]: zebra"]);
    expect(collector.report({ color: true })[0]).toBe("\u001b[1;33m[WARNING]\u001b[0m: apple");
  });

  it("follows NO_COLOR and TERM=dumb", () => {
    expect(colorAllowed({ NO_COLOR: "" })).toBe(false);
    expect(colorAllowed({ TERM: "dumb" })).toBe(false);
    expect(colorAllowed({ TERM: "xterm" })).toBe(process.platform !== "win32");
  });
});
