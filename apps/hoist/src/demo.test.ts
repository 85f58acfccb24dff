import { describe, expect, it } from "vitest";
import { describeReference, runDemo } from "./demo.js";

describe("demo", () => {
  it("normalises Docker Hub names and picks http for loopback registries", () => {
    expect(describeReference("ubuntu")).toMatchObject({
      name: "index.docker.io/library/ubuntu:latest",
      scheme: "https",
      scope: "repository:library/ubuntu:pull",
    });
    expect(describeReference("[::1]:5000/cache/node:20-slim")).toMatchObject({
      scheme: "http",
      path: "cache/node",
    });
  });

  it("prints every reference and the typed error", () => {
    const lines: string[] = [];
    runDemo((line) => lines.push(line));
    expect(lines.join("\n")).toContain("index.docker.io/library/alpine:3.20");
    expect(lines.at(-1)).toContain("HOIST_NAME_INVALID");
  });
});
