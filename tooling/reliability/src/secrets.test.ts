import { describe, expect, it } from "vitest";
import { errorExposures, findLeaks, secretForms } from "./secrets.js";

describe("findLeaks", () => {
  const secret = { label: "pw", value: "hunter2-secret" };

  it("finds a password inside a Basic header at any alignment", () => {
    for (const user of ["a", "ab", "abc"]) {
      const header = `Basic ${Buffer.from(`${user}:${secret.value}`).toString("base64")}`;
      expect(findLeaks([{ where: "line", text: header }], [secret])).toHaveLength(1);
    }
  });

  it("finds URL-encoded and JSON-escaped forms, and nothing in clean text", () => {
    const odd = { label: "odd", value: 'p@ss "word"/x' };
    expect(findLeaks([{ where: "a", text: encodeURIComponent(odd.value) }], [odd])).toHaveLength(1);
    expect(findLeaks([{ where: "b", text: JSON.stringify({ p: odd.value }) }], [odd])).toHaveLength(
      1,
    );
    expect(findLeaks([{ where: "c", text: "nothing to see" }], [secret, odd])).toEqual([]);
    expect(secretForms(secret.value).map((f) => f.form)).toContain("base64@1");
  });

  it("searches an error's cause chain, fields and serialisations", () => {
    const cause = Object.assign(new Error("inner"), { detail: { token: secret.value } });
    const error = new Error("outer", { cause });
    const leaks = findLeaks(errorExposures(error), [secret]);
    expect(leaks.map((l) => l.where)).toEqual(
      expect.arrayContaining(["error.cause.detail.token", "util.inspect(error)"]),
    );
  });

  it("refuses secrets too short to search for", () => {
    expect(() => findLeaks([], [{ label: "x", value: "abc" }])).toThrow(/too short/);
  });
});
