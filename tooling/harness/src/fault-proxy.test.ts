import { request } from "node:http";
import { afterAll, describe, expect, it } from "vitest";
import { startFaultProxy } from "./fault-proxy.js";
import { startHttpOrigin } from "./http-origin.js";

const origin = await startHttpOrigin({
  handler: (_request, res) => {
    res.writeHead(202, { range: "0-1023", "content-type": "text/plain" });
    res.end("accepted");
  },
});
const proxy = await startFaultProxy({ target: origin.url });
afterAll(async () => {
  await proxy.stop();
  await origin.stop();
});

function get(path: string): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${proxy.url}${path}`, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("fault proxy", () => {
  it("rewrites a forwarded answer's status and headers (a lagging Range)", async () => {
    proxy.setRules([
      {
        path: "/upload",
        fault: {
          kind: "rewrite",
          response: (answer) => ({ ...answer, headers: { ...answer.headers, range: "0-511" } }),
        },
      },
    ]);
    const answer = await get("/upload");
    expect(answer.status).toBe(202);
    expect(answer.headers.range).toBe("0-511");
    expect(proxy.requests().at(-1)?.status).toBe(202);
  });

  it("answers with raw bytes that are not HTTP", async () => {
    proxy.setRules([{ path: "/raw", fault: { kind: "raw", data: "SSH-2.0-not-http\r\n" } }]);
    await expect(get("/raw")).rejects.toThrow(/Parse Error|socket hang up/);
  });

  it("replays the same probabilistic faults when reseeded", async () => {
    const rules = [
      { path: /\/p/, probability: 0.5, fault: { kind: "status" as const, status: 503 } },
    ];
    const statuses = async () => {
      const seen: number[] = [];
      for (let i = 0; i < 12; i++) seen.push((await get(`/p${i}`)).status);
      return seen;
    };
    proxy.setRules(rules, { seed: 42 });
    const first = await statuses();
    proxy.setRules(rules, { seed: 42 });
    expect(await statuses()).toEqual(first);
    expect(new Set(first)).toEqual(new Set([202, 503]));
  });
});
