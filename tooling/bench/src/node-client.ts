// The "node" row of pull, push-cold and copy: the minimal client (minimal-client.ts) on node:http.
import { Agent } from "node:http";
import { runMinimalClient } from "./minimal-client.js";
import { call, drain } from "./plain-http.js";

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

runMinimalClient({
  async get(url, headers) {
    const response = await call(agent, url, "GET", headers);
    return { status: response.statusCode ?? 0, body: response };
  },
  async head(url) {
    const response = await call(agent, url, "HEAD", {});
    await drain(response);
    return response.statusCode ?? 0;
  },
  async post(url) {
    const response = await call(agent, url, "POST", {});
    await drain(response);
    return { status: response.statusCode ?? 0, location: response.headers.location };
  },
  async put(url, headers, body) {
    const response = await call(agent, url, "PUT", headers, body);
    await drain(response);
    return response.statusCode ?? 0;
  },
  async close() {
    agent.destroy();
  },
});
