import { setTimeout as delay } from "node:timers/promises";
import { expect, it } from "vitest";
import { KeyedMutex } from "./keyed-mutex.js";

it("runs sections of one key one at a time, and other keys alongside", async () => {
  const mutex = new KeyedMutex();
  const events: string[] = [];
  const section = (key: string, name: string, ms: number) =>
    mutex.run(key, async () => {
      events.push(`${name} start`);
      await delay(ms);
      events.push(`${name} end`);
      return name;
    });
  const results = await Promise.all([
    section("a", "a1", 20),
    section("a", "a2", 1),
    section("b", "b1", 5),
  ]);
  expect(results).toEqual(["a1", "a2", "b1"]);
  expect(events.indexOf("a2 start")).toBeGreaterThan(events.indexOf("a1 end"));
  expect(events.indexOf("b1 start")).toBeLessThan(events.indexOf("a1 end"));
});

it("keeps going after a section fails", async () => {
  const mutex = new KeyedMutex();
  const failing = mutex.run("k", async () => {
    throw new Error("boom");
  });
  await expect(failing).rejects.toThrow("boom");
  await expect(mutex.run("k", async () => "next")).resolves.toBe("next");
});
