import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { quietDependencyWarnings } from "./dependency-warnings.js";

function namedWarning(name: string, message: string): Error {
  const warning = new Error(message);
  warning.name = name;
  return warning;
}

const AWS = namedWarning(
  "Warning",
  "NodeVersionSupportWarning: The AWS SDK for JavaScript (v3)\nversions published after …",
);
const GOOGLE = namedWarning("MetadataLookupWarning", "received unexpected error = …");
const OTHER = namedWarning("ExperimentalWarning", "something experimental");

function processWithPrinter() {
  const target = new EventEmitter();
  const printed: string[] = [];
  target.on("warning", (warning: Error) => printed.push(warning.name));
  return { target, printed };
}

describe("quietDependencyWarnings", () => {
  it("leaves out the cloud SDKs' notices and prints every other warning as before", () => {
    const { target, printed } = processWithPrinter();
    const restore = quietDependencyWarnings({ verbose: false, process: target });
    for (const warning of [AWS, GOOGLE, OTHER]) target.emit("warning", warning);
    expect(printed).toEqual(["ExperimentalWarning"]);
    restore();
    target.emit("warning", GOOGLE);
    expect(printed).toEqual(["ExperimentalWarning", "MetadataLookupWarning"]);
    expect(target.listenerCount("warning")).toBe(1);
  });

  it("prints everything with -v", () => {
    const { target, printed } = processWithPrinter();
    quietDependencyWarnings({ verbose: true, process: target });
    for (const warning of [AWS, GOOGLE, OTHER]) target.emit("warning", warning);
    expect(printed).toEqual(["Warning", "MetadataLookupWarning", "ExperimentalWarning"]);
  });

  it("adds no printer where Node has none (node --no-warnings)", () => {
    const target = new EventEmitter();
    quietDependencyWarnings({ verbose: false, process: target });
    expect(target.listenerCount("warning")).toBe(0);
  });
});
