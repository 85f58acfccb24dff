import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { anonymous, basic } from "@hoist/authn";
import { useDockerRegistry, useStarted } from "@hoist/harness";
import { appendLayers, type Image, randomImage } from "@hoist/oci";
import { type RunningRegistry, startRegistry } from "@hoist/registry";
import { createTransport } from "@hoist/transport";
import { Agent, type Dispatcher } from "undici";
import { describe, expect, it } from "vitest";
import {
  createPuller,
  createPusher,
  DEFAULT_JOBS,
  get,
  layer,
  list,
  REMOTE_ERROR_CODES,
  RemoteError,
  type RemoteOptions,
  write,
} from "../src/index.js";
import { caught, openedLayer, uniqueRepo } from "./helpers.js";

describe("options are checked before anything is sent", () => {
  const cases: Array<[string, RemoteOptions, RegExp]> = [
    [
      "both credentials",
      { keychain: { name: "k", resolve: async () => anonymous }, auth: anonymous },
      /either keychain or auth/,
    ],
    ["no jobs", { jobs: 0 }, /"jobs"/],
    ["fractional jobs", { jobs: 1.5 }, /"jobs"/],
    ["page size over 1000", { pageSize: 5000 }, /"pageSize"/],
    ["tiny chunks", { chunkSize: 10 }, /"chunkSize"/],
    ["a bad platform", { platform: "linux/" }, /platform.*component is empty/],
    ["a junk transport", { transport: {} as never }, /"transport"/],
    ["a junk keychain", { keychain: { name: "x" } as never }, /Keychain/],
    ["a typo", { jbos: 3 } as never, /unknown option "jbos"/],
    [
      "a shared transport with its own settings",
      { transport: createTransport(), userAgent: "x/1" },
      /where it is created/,
    ],
  ];
  it.each(cases)("refuses %s", (_name, options, message) => {
    for (const create of [createPuller, createPusher]) {
      const error = (() => {
        try {
          create(options);
        } catch (caughtError) {
          return caughtError as RemoteError;
        }
        throw new Error("expected createPuller/createPusher to throw");
      })();
      expect(RemoteError.is(error)).toBe(true);
      expect(error.code).toBe("HOIST_REMOTE_INVALID_OPTIONS");
      expect(error.message).toMatch(message);
    }
  });

  it("keeps client options on the Puller and Pusher, not on calls", async () => {
    const puller = createPuller();
    try {
      const error = await caught<RemoteError>(() =>
        puller.list("127.0.0.1:1/x", { auth: basic("a", "b") }),
      );
      expect(error.code).toBe("HOIST_REMOTE_INVALID_OPTIONS");
      expect(error.message).toMatch(/createPuller/);
    } finally {
      await puller.close();
    }
  });

  it("refuses bad references and arguments with typed errors that quote them", async () => {
    const bad = await caught<RemoteError>(() => get("Example.com/UPPER:tag"));
    expect(bad.code).toBe("HOIST_REMOTE_INVALID_ARGUMENT");
    expect(bad.message).toContain('"Example.com/UPPER:tag"');
    const tagged = await caught<RemoteError>(() => layer("example.com/app:v1"));
    expect(tagged.code).toBe("HOIST_REMOTE_INVALID_ARGUMENT");
    expect(tagged.message).toMatch(/needs a digest reference/);
    const notImage = await caught<RemoteError>(() =>
      write("example.com/app:v1", {} as unknown as Image),
    );
    expect(notImage.code).toBe("HOIST_REMOTE_INVALID_ARGUMENT");
    const pusher = createPusher();
    try {
      const badTag = await caught<RemoteError>(() => pusher.tag("example.com/app:v1", "no spaces"));
      expect(badTag.code).toBe("HOIST_REMOTE_INVALID_ARGUMENT");
      expect(badTag.message).toContain('"no spaces"');
    } finally {
      await pusher.close();
    }
  });

  it("has one brand for every error and a stable list of codes", () => {
    const error = new RemoteError("x", { code: "HOIST_REMOTE_NOT_FOUND", operation: "test" });
    expect(RemoteError.is(error)).toBe(true);
    expect(RemoteError.is(new Error("x"))).toBe(false);
    expect(REMOTE_ERROR_CODES).toContain("HOIST_REMOTE_INVALID_OPTIONS");
    expect(new Set(REMOTE_ERROR_CODES).size).toBe(REMOTE_ERROR_CODES.length);
    expect(DEFAULT_JOBS).toBe(4);
  });
});

describe("options that shape requests", () => {
  const docker = useDockerRegistry();
  const hoist = useStarted<RunningRegistry>(
    "@hoist/registry",
    () =>
      startRegistry({
        faults: {
          rules: [
            {
              // The registry takes its time to commit: the blob is stored, then answered.
              name: "slow commits",
              repository: /^answers-/,
              method: "PUT",
              route: "upload",
              respond: async ({ forward }) => {
                const answer = await forward();
                await sleep(150);
                return answer;
              },
            },
            { name: "slow uploads", route: ["upload", "upload-start"], latencyMs: 15 },
            { name: "once", path: /\/v2\/flaky\/tags\/list/, status: 503, times: 1 },
          ],
        },
      }),
    (r) => r.close(),
  );
  const image = randomImage({ layers: 1, layerSize: 256, seed: 1 });

  it("sends the user agent", async () => {
    const repo = uniqueRepo("ua");
    await write(`${docker().host}/${repo}:v1`, image, { userAgent: "my-ci/2.1" });
    expect(await docker().waitForLog(/hoist\/\S+ my-ci\/2\.1/)).toBeTruthy();
  });

  it("retries by the given policy, or not at all", async () => {
    await write(`${hoist().host}/flaky:v1`, image);
    const once = await caught<RemoteError>(() => list(`${hoist().host}/flaky`, { retry: false }));
    expect(once.code).toBe("HOIST_REMOTE_REGISTRY_ERROR");
    expect(once.status).toBe(503);
    expect(await list(`${hoist().host}/flaky`, { retry: false })).toEqual(["v1"]);
  });

  /** The most requests of a route that were open at one time, as the registry saw them. */
  const mostAtOnce = (route: string) => {
    const requests = hoist()
      .requests()
      .filter((r) => r.route === route);
    let found = 0;
    for (const request of requests) {
      const at = request.startedAt.getTime();
      const overlapping = requests.filter(
        (other) =>
          other.startedAt.getTime() <= at && other.startedAt.getTime() + other.durationMs > at,
      ).length;
      found = Math.max(found, overlapping);
    }
    return found;
  };

  it("bounds a whole multi-image push by `jobs`, and the sessions opened ahead by as many", async () => {
    const images = [1, 2, 3].map((seed) => randomImage({ layers: 3, layerSize: 512, seed }));
    const peak = async (jobs: number) => {
      hoist().clearRequests();
      const repo = uniqueRepo("jobs");
      const pusher = createPusher();
      try {
        await pusher.multiWrite(
          images.map((img, i) => [`${hoist().host}/${repo}:v${i}`, img] as const),
          { jobs },
        );
      } finally {
        await pusher.close();
      }
      return { uploads: mostAtOnce("upload"), sessions: mostAtOnce("upload-start") };
    };
    // An upload whose bytes are sent waits for its answer beside the next one's bytes.
    const one = await peak(1);
    expect(one.uploads).toBeLessThanOrEqual(2);
    // One session for the blob in the slot, one opened ahead for the next.
    expect(one.sessions).toBeLessThanOrEqual(2);
    const three = await peak(3);
    expect(three.uploads).toBeGreaterThan(1);
    expect(three.uploads).toBeLessThanOrEqual(6);
    expect(three.sessions).toBeLessThanOrEqual(6);
  });

  it("sends the next blob's bytes while the registry commits the last, at most `jobs` at a time", async () => {
    // Layers whose bytes come in pieces, so that two uploads reading at once would show.
    let reading = 0;
    let mostReading = 0;
    const pieces = 8;
    const slowLayer = (seed: number) => {
      const bytes = Buffer.alloc(8 * 1024, seed);
      return openedLayer(bytes, () =>
        Readable.from(
          (async function* () {
            for (let piece = 0; piece < pieces; piece++) {
              if (piece === 0) mostReading = Math.max(mostReading, ++reading);
              await sleep(5);
              // Done reading before the last piece is handed over, which lets the slot go.
              if (piece === pieces - 1) reading--;
              yield bytes.subarray(
                (piece * bytes.length) / pieces,
                ((piece + 1) * bytes.length) / pieces,
              );
            }
          })(),
        ),
      );
    };
    const push = async (jobs: number) => {
      hoist().clearRequests();
      reading = 0;
      mostReading = 0;
      const image = appendLayers(
        randomImage({ layers: 0, seed: 50 + jobs }),
        [1, 2, 3, 4, 5].map((seed) => slowLayer(seed + 10 * jobs)),
      );
      await write(`${hoist().host}/${uniqueRepo("answers")}:v1`, image, { jobs });
      return { reading: mostReading, uploads: mostAtOnce("upload") };
    };
    // One job: one blob's bytes at a time, and one more upload waiting for its answer.
    expect(await push(1)).toEqual({ reading: 1, uploads: 2 });
    const two = await push(2);
    expect(two.reading).toBeLessThanOrEqual(2);
    expect(two.uploads).toBeGreaterThan(2);
    expect(two.uploads).toBeLessThanOrEqual(4);
  });

  it("sends through a caller's undici dispatcher, and a shared transport stays open", async () => {
    let dispatched = 0;
    class Counting extends Agent {
      override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) {
        dispatched++;
        return super.dispatch(options, handler);
      }
    }
    const agent = new Counting();
    try {
      await write(`${hoist().host}/${uniqueRepo("dispatcher")}:v1`, image, { transport: agent });
      expect(dispatched).toBeGreaterThan(3);
    } finally {
      await agent.close();
    }
    const transport = createTransport();
    try {
      const puller = createPuller({ transport });
      await puller.close();
      await write(`${hoist().host}/${uniqueRepo("shared")}:v1`, image, { transport });
      const again = createPuller({ transport });
      expect(await again.list(`${hoist().host}/flaky`)).toEqual(["v1"]);
      await again.close();
    } finally {
      await transport.close();
    }
  });
});
