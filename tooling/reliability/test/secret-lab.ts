import { randomBytes } from "node:crypto";
import type { RunningFaultProxy } from "@hoist/harness";
import type { Secret } from "../src/index.js";

/**
 * The secrets of one scenario: made-up passwords, plus every token and Authorization value
 * that went over the wire, harvested from the proxies in front of the registries.
 */
export class SecretLab {
  readonly secrets: Secret[] = [];
  readonly #seen = new Set<string>();

  /** A fresh random secret with a recognisable label. */
  make(label: string): Secret {
    const made = {
      label,
      value: `${label.replace(/[^a-z]/gi, "").slice(0, 6)}-${randomBytes(12).toString("hex")}`,
    };
    this.secrets.push(made);
    return made;
  }

  add(label: string, value: string): void {
    this.secrets.push({ label, value });
  }

  /** Records each Authorization value (and its bearer token) a proxy carried. */
  harvest(proxy: RunningFaultProxy): void {
    for (const record of proxy.requests()) {
      const value = record.headers.authorization;
      if (typeof value !== "string" || this.#seen.has(value)) continue;
      this.#seen.add(value);
      this.add(`Authorization #${this.#seen.size}`, value);
      const token = /^Bearer (.+)$/i.exec(value)?.[1];
      if (token) this.add(`bearer token #${this.#seen.size}`, token);
    }
  }
}
