import type { IncomingMessage } from "node:http";
import type { DistributionErrorCode } from "./distribution-error.js";
import { quote, RegistryError } from "./errors.js";
import { seededRandom } from "./prng.js";
import type { RegistryResponse } from "./response.js";
import type { Route, RouteKind } from "./routes.js";

/** A real answer of the registry, body read whole, as {@link FaultContext.forward} returns it. */
export interface ForwardedResponse extends RegistryResponse {
  body: Buffer;
}

/** What a custom fault hook sees. */
export interface FaultContext {
  request: IncomingMessage;
  url: URL;
  route: Route;
  /** The name of the rule that fired. */
  rule: string;
  /** The fault injector's seeded generator, for hooks that randomise their lies reproducibly. */
  random(): number;
  /**
   * Lets the registry handle the request for real and returns its answer without sending it,
   * so the hook can alter it (wrong bytes, a broken header) and return that. Call it at most once.
   */
  forward(): Promise<ForwardedResponse>;
}

/**
 * One fault: which requests it applies to, how often, and what it does. Selection fields are
 * all optional (an empty rule matches everything); the first rule that fires decides the
 * request's fate and later rules are not consulted.
 */
export interface FaultRule {
  /** Shown in the request log (`fault`) when the rule fires. Default `rule <index>`. */
  name?: string;
  /** Only these methods ("GET", "PUT", …). */
  method?: string | readonly string[];
  /** Only these routes. */
  route?: RouteKind | readonly RouteKind[];
  /** Only requests about this repository (exact name or pattern). */
  repository?: string | RegExp;
  /** Only this path (exact string) or paths matching this pattern (tested with the query). */
  path?: string | RegExp;
  /** Chance that a matching request is hit, drawn from the seeded generator. Default 1. */
  probability?: number;
  /** Let this many matching requests through before the rule can fire. Default 0. */
  skip?: number;
  /** Fire at most this many times. Default: no limit. */
  times?: number;

  /** Wait this long before doing anything else (or before the real answer). */
  latencyMs?: number;
  /** Extra headers on whatever answer goes out. */
  headers?: Readonly<Record<string, string>>;
  /** Answer with this status and a spec error body instead of handling the request. */
  status?: number;
  /** The error code of that body. Default: derived from the status (429 → TOOMANYREQUESTS). */
  code?: DistributionErrorCode | (string & {});
  /** The error message of that body. */
  message?: string;
  /** A `Retry-After` header (seconds, or an HTTP date). */
  retryAfter?: number | string;
  /**
   * Cut the connection: `before-response` sends nothing at all, `after-headers` sends the real
   * answer's status line and headers, then cuts.
   */
  reset?: "before-response" | "after-headers";
  /** Send the real answer's headers and only this many body bytes, then cut the connection. */
  truncateAfter?: number;
  /**
   * A fully custom answer. Return a response to send it, or undefined to let the request be
   * handled normally. Use `context.forward()` to start from the real answer.
   */
  respond?: (
    context: FaultContext,
  ) => RegistryResponse | undefined | Promise<RegistryResponse | undefined>;
}

export interface FaultOptions {
  /** Seed of the generator behind `probability`. The same seed and requests give the same faults. Default 1. */
  seed?: number;
  rules: readonly FaultRule[];
}

/** A rule that fired for one request. */
export interface FiredFault {
  name: string;
  rule: FaultRule;
}

export interface FaultInjector {
  /** Decides which rule, if any, fires for a request. Consumes random draws for matching rules. */
  pick(request: { method: string; route: Route; url: URL }): FiredFault | undefined;
  random(): number;
}

export function createFaultInjector(options: FaultOptions | undefined): FaultInjector | undefined {
  if (options === undefined) return undefined;
  if (!Array.isArray(options.rules)) {
    invalid(`faults.rules must be an array of rules, got ${quote(options.rules)}`);
  }
  options.rules.forEach(checkRule);
  const random = seededRandom(options.seed ?? 1);
  const matched = options.rules.map(() => 0);
  const fired = options.rules.map(() => 0);
  return {
    random,
    pick({ method, route, url }) {
      for (const [index, rule] of options.rules.entries()) {
        if (!selects(rule, method, route, url)) continue;
        matched[index] = (matched[index] ?? 0) + 1;
        if ((matched[index] ?? 0) <= (rule.skip ?? 0)) continue;
        if (rule.times !== undefined && (fired[index] ?? 0) >= rule.times) continue;
        const probability = rule.probability ?? 1;
        if (probability < 1 && random() >= probability) continue;
        fired[index] = (fired[index] ?? 0) + 1;
        return { name: rule.name ?? `rule ${index}`, rule };
      }
      return undefined;
    },
  };
}

function selects(rule: FaultRule, method: string, route: Route, url: URL): boolean {
  if (rule.method !== undefined) {
    const methods = typeof rule.method === "string" ? [rule.method] : rule.method;
    if (!methods.some((m) => m.toUpperCase() === method)) return false;
  }
  if (rule.route !== undefined) {
    const routes = typeof rule.route === "string" ? [rule.route] : rule.route;
    if (!routes.includes(route.kind)) return false;
  }
  if (rule.repository !== undefined) {
    const repository = "repository" in route ? route.repository : undefined;
    if (repository === undefined) return false;
    if (
      typeof rule.repository === "string"
        ? rule.repository !== repository
        : !rule.repository.test(repository)
    ) {
      return false;
    }
  }
  if (rule.path !== undefined) {
    if (
      typeof rule.path === "string"
        ? rule.path !== url.pathname
        : !rule.path.test(url.pathname + url.search)
    ) {
      return false;
    }
  }
  return true;
}

function invalid(message: string): never {
  throw new RegistryError(message, {
    code: "HOIST_REGISTRY_INVALID_OPTION",
    operation: "configure faults",
  });
}

function checkRule(rule: FaultRule, index: number): void {
  const where = `faults.rules[${index}]`;
  if (typeof rule !== "object" || rule === null) invalid(`${where} must be an object`);
  const nonNegative = (field: keyof FaultRule) => {
    const value = rule[field];
    if (
      value !== undefined &&
      (typeof value !== "number" || !Number.isFinite(value) || value < 0)
    ) {
      invalid(`${where}.${field} must be a non-negative number, got ${quote(value)}`);
    }
  };
  nonNegative("latencyMs");
  nonNegative("skip");
  nonNegative("times");
  nonNegative("truncateAfter");
  if (rule.probability !== undefined && !(rule.probability >= 0 && rule.probability <= 1)) {
    invalid(`${where}.probability must be between 0 and 1, got ${quote(rule.probability)}`);
  }
  if (
    rule.status !== undefined &&
    !(Number.isInteger(rule.status) && rule.status >= 100 && rule.status <= 599)
  ) {
    invalid(`${where}.status must be an HTTP status code, got ${quote(rule.status)}`);
  }
  if (
    rule.reset !== undefined &&
    rule.reset !== "before-response" &&
    rule.reset !== "after-headers"
  ) {
    invalid(
      `${where}.reset must be "before-response" or "after-headers", got ${quote(rule.reset)}`,
    );
  }
  const terminal = [
    rule.status !== undefined,
    rule.reset !== undefined,
    rule.respond !== undefined,
  ].filter(Boolean);
  if (terminal.length > 1) {
    invalid(
      `${where} sets more than one of status, reset and respond; a rule can do only one of them`,
    );
  }
}
