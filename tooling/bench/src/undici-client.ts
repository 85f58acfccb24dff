// The "undici" row of pull, push-cold and copy: the minimal client (minimal-client.ts) on undici, the
// HTTP client @hoist/transport is built on. Next to the node row it shows what the client
// library costs by itself, before any of hoist's own work.
import type { Readable } from "node:stream";
import { Agent, request } from "undici";
import { runMinimalClient } from "./minimal-client.js";

const agent = new Agent({ connections: 16 });

runMinimalClient({
  async get(url, headers) {
    const response = await request(url, { dispatcher: agent, headers });
    return { status: response.statusCode, body: response.body as unknown as Readable };
  },
  async head(url) {
    // Without reset: false undici closes the connection after a HEAD (as @hoist/transport
    // also tells it not to).
    const response = await request(url, { dispatcher: agent, method: "HEAD", reset: false });
    await response.body.dump();
    return response.statusCode;
  },
  async post(url) {
    const response = await request(url, { dispatcher: agent, method: "POST" });
    await response.body.dump();
    const location = response.headers.location;
    return {
      status: response.statusCode,
      location: Array.isArray(location) ? location[0] : location,
    };
  },
  async put(url, headers, body) {
    const response = await request(url, {
      dispatcher: agent,
      method: "PUT",
      headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)])),
      body,
    });
    await response.body.dump();
    return response.statusCode;
  },
  async close() {
    await agent.close();
  },
});
