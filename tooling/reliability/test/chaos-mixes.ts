import { type FaultRule, type RewrittenAnswer, seededRandom as seeded } from "@hoist/harness";

/** A named set of fault rules, made afresh for each seeded run. */
export interface ChaosMix {
  readonly name: string;
  /** What the mix does, for the report. */
  readonly what: string;
  /** Upload in PATCH chunks of this size (the Range mix needs chunks to lag behind). */
  readonly chunkSize?: number;
  rules(seed: number): FaultRule[];
}

const pick = <T>(random: () => number, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)] as T;

/** Bursts: `count` runs of consecutive answers starting at seeded request numbers. */
function bursts(
  random: () => number,
  count: number,
  fault: () => FaultRule["fault"],
  name: string,
): FaultRule[] {
  const rules: FaultRule[] = [];
  for (let i = 0; i < count; i++) {
    rules.push({
      name,
      after: Math.floor(random() * 40),
      times: 1 + Math.floor(random() * 3),
      fault: fault(),
    });
  }
  return rules;
}

const BLOBS_AND_MANIFESTS = /\/v2\/.+\/(blobs|manifests)\//;
const BLOB_GETS = /\/v2\/.+\/blobs\/sha256:/;

/** How far behind the bytes received a lagging `Range` answer claims to be. */
function laggingRange(random: () => number) {
  return (answer: RewrittenAnswer): RewrittenAnswer => {
    const range = answer.headers.range;
    if (typeof range !== "string") return answer;
    const end = Number(range.split("-")[1]);
    if (!Number.isFinite(end) || end <= 0) return answer;
    const lag = pick(random, [1, 512, 4096, end]);
    const claimed = Math.max(0, end - lag);
    return { ...answer, headers: { ...answer.headers, range: `0-${claimed}` } };
  };
}

export const CHAOS_MIXES: readonly ChaosMix[] = [
  {
    name: "5xx bursts",
    what: "bursts of 1-3 consecutive 500/502/503/504 answers at seeded points, plus 4% at random",
    rules(seed) {
      const random = seeded(seed);
      return [
        ...bursts(
          random,
          4,
          () => ({ kind: "status", status: pick(random, [500, 502, 503, 504]) }),
          "5xx burst",
        ),
        { name: "5xx", probability: 0.04, fault: { kind: "status", status: 503 } },
      ];
    },
  },
  {
    name: "429 with Retry-After",
    what: "bursts of 429 Too Many Requests with Retry-After 1 s (seconds or HTTP date)",
    rules(seed) {
      const random = seeded(seed);
      return bursts(
        random,
        3,
        () => ({
          kind: "status",
          status: 429,
          headers: {
            "retry-after": random() < 0.5 ? "1" : new Date(Date.now() + 1500).toUTCString(),
            "content-type": "application/json",
          },
          body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}',
        }),
        "429",
      );
    },
  },
  {
    name: "resets before bodies",
    what: "15% of requests reset before any answer",
    rules: () => [{ name: "reset", probability: 0.15, fault: { kind: "reset" } }],
  },
  {
    name: "resets during bodies",
    what: "about 40% of blob and manifest answers reset after 0-64 KiB of body",
    rules(seed) {
      const random = seeded(seed);
      return [0, 1, 2, 3].map(() => ({
        name: "reset mid-body",
        method: "GET",
        path: BLOBS_AND_MANIFESTS,
        probability: 0.12,
        fault: { kind: "reset-body" as const, afterBytes: Math.floor(random() * 65536) },
      }));
    },
  },
  {
    name: "truncated bodies",
    what: "about 40% of blob and manifest answers end cleanly after 0-64 KiB, short of Content-Length",
    rules(seed) {
      const random = seeded(seed);
      return [0, 1, 2, 3].map(() => ({
        name: "truncate",
        method: "GET",
        path: BLOBS_AND_MANIFESTS,
        probability: 0.12,
        fault: { kind: "truncate" as const, afterBytes: Math.floor(random() * 65536) },
      }));
    },
  },
  {
    name: "stalls",
    what: "3% of requests never answered, 10% of blob bodies stop mid-way (client timeouts 3 s)",
    rules(seed) {
      const random = seeded(seed);
      return [
        { name: "stall", probability: 0.03, fault: { kind: "stall" } },
        {
          name: "stall mid-body",
          method: "GET",
          path: BLOB_GETS,
          probability: 0.1,
          fault: { kind: "stall-body", afterBytes: Math.floor(random() * 65536) },
        },
      ];
    },
  },
  {
    name: "lagging upload Range",
    what: "chunked uploads (64 KiB) whose PATCH answers claim fewer bytes than arrived, half the time, plus 5% failed PATCHes",
    chunkSize: 64 * 1024,
    rules(seed) {
      const random = seeded(seed);
      return [
        {
          name: "PATCH 503",
          method: "PATCH",
          probability: 0.05,
          fault: { kind: "status", status: 503 },
        },
        {
          name: "lagging Range",
          method: ["PATCH", "GET"],
          path: /\/blobs\/uploads\//,
          probability: 0.5,
          fault: { kind: "rewrite", response: laggingRange(random) },
        },
      ];
    },
  },
  {
    name: "sustained outage",
    what: "after 2-30 requests every answer is a 503, a reset or a stall: runs must fail, typed and in time, leaving nothing half-written",
    rules(seed) {
      const random = seeded(seed);
      const after = 2 + Math.floor(random() * 28);
      const fault = pick<FaultRule["fault"]>(random, [
        { kind: "status", status: 503 },
        { kind: "reset" },
        { kind: "stall" },
      ]);
      return [{ name: `outage (${fault.kind})`, after, fault }];
    },
  },
  {
    name: "everything at once",
    what: "all of the above at a third of their rates, chunked uploads on every other run",
    chunkSize: 96 * 1024,
    rules(seed) {
      const random = seeded(seed);
      return [
        ...bursts(
          random,
          2,
          () => ({ kind: "status", status: pick(random, [500, 503]) }),
          "5xx burst",
        ),
        {
          name: "429",
          probability: 0.02,
          fault: { kind: "status", status: 429, headers: { "retry-after": "1" } },
        },
        { name: "reset", probability: 0.03, fault: { kind: "reset" } },
        {
          name: "reset mid-body",
          method: "GET",
          path: BLOBS_AND_MANIFESTS,
          probability: 0.05,
          fault: { kind: "reset-body", afterBytes: Math.floor(random() * 65536) },
        },
        {
          name: "truncate",
          method: "GET",
          path: BLOBS_AND_MANIFESTS,
          probability: 0.05,
          fault: { kind: "truncate", afterBytes: Math.floor(random() * 65536) },
        },
        { name: "stall", probability: 0.01, fault: { kind: "stall" } },
        {
          name: "lagging Range",
          method: "PATCH",
          probability: 0.2,
          fault: { kind: "rewrite", response: laggingRange(random) },
        },
      ];
    },
  },
];
