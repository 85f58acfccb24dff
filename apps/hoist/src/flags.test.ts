import { describe, expect, it } from "vitest";
import {
  collectEnv,
  collectKeyValues,
  collectList,
  normalizeBooleanFlags,
  parseInteger,
  splitCommaList,
} from "./flags.js";

describe("pflag value syntax", () => {
  it.each([
    ["a", ["a"]],
    ["a,b", ["a", "b"]],
    ['"a,b",c', ["a,b", "c"]],
    ['"say ""hi""",x', ['say "hi"', "x"]],
    ["a,,b", ["a", "", "b"]],
    ["", []],
  ])("splits %j as a CSV record", (input, expected) => {
    expect(splitCommaList(input)).toEqual(expected);
  });

  it("refuses an unterminated quote", () => {
    expect(() => splitCommaList('"open')).toThrow(/unterminated quote/);
  });

  it("collects repeated list flags", () => {
    expect(collectList("c", collectList("a,b", undefined))).toEqual(["a", "b", "c"]);
  });

  it("reads key=value maps like StringToString", () => {
    expect(collectKeyValues("a=1,2", undefined)).toEqual({ a: "1,2" });
    expect(collectKeyValues("a=1,b=2", undefined)).toEqual({ a: "1", b: "2" });
    expect(collectKeyValues("a=3", { a: "1", b: "2" })).toEqual({ a: "3", b: "2" });
  });

  it("refuses map values without =", () => {
    expect(() => collectKeyValues("novalue", undefined)).toThrow(/must be formatted as key=value/);
    expect(() => collectKeyValues("a=1,b=2,c", undefined)).toThrow(/c must be formatted/);
  });

  it("keeps env pairs in order, split at the first =", () => {
    expect(collectEnv("B=x=y", collectEnv("A=1", undefined))).toEqual([
      { key: "A", value: "1" },
      { key: "B", value: "x=y" },
    ]);
    expect(() => collectEnv("A", undefined)).toThrow(/A must be formatted as key=value/);
  });

  it("parses integers strictly", () => {
    expect(parseInteger("8")).toBe(8);
    expect(parseInteger("-1")).toBe(-1);
    expect(() => parseInteger("4x")).toThrow(/not an integer/);
  });
});

describe("--flag=true|false", () => {
  const booleans = new Map([
    ["insecure", { negatable: false }],
    ["flatten", { negatable: true }],
  ]);

  it("rewrites what commander does not know and leaves the rest", () => {
    expect(
      normalizeBooleanFlags(
        ["--insecure=true", "--flatten=false", "--insecure=false", "--tag=x", "--", "--insecure=1"],
        booleans,
      ),
    ).toEqual(["--insecure", "--no-flatten", "--tag=x", "--", "--insecure=1"]);
  });

  it("refuses other values", () => {
    expect(() => normalizeBooleanFlags(["--insecure=yes"], booleans)).toThrow(
      /invalid argument "yes" for "--insecure" flag/,
    );
  });
});
