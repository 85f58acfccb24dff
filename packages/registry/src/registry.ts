import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as delay } from "node:timers/promises";
import type { TLSSocket } from "node:tls";
import { type AuthOptions, createAuthenticator } from "./auth.js";
import { deleteBlob, getBlob } from "./blobs.js";
import type { RegistryCore, RequestContext } from "./core.js";
import {
  apiError,
  codeForStatus,
  DISTRIBUTION_ERROR_MESSAGES,
  DistributionError,
  type DistributionErrorCode,
} from "./distribution-error.js";
import { quote, RegistryError } from "./errors.js";
import {
  createFaultInjector,
  type FaultContext,
  type FaultOptions,
  type FiredFault,
} from "./faults.js";
import { KeyedMutex } from "./keyed-mutex.js";
import { listCatalog, listReferrers, listTags } from "./listing.js";
import { deleteManifest, getManifest, putManifest } from "./manifests.js";
import { repositoryNameProblem } from "./names.js";
import { declaredLength } from "./request-body.js";
import { RequestLog, type RequestRecord } from "./request-log.js";
import { errorResponse, jsonResponse, type RegistryResponse, writeResponse } from "./response.js";
import { matchRoute, ROUTE_METHODS, type Route, routeRepository } from "./routes.js";
import { memoryStorage } from "./storage/memory-storage.js";
import type { RegistryStorage } from "./storage/types.js";
import { cancelUpload, finishUpload, patchUpload, startUpload, uploadStatus } from "./uploads.js";

/** Size limits. */
export interface RegistryLimits {
  /** Largest manifest accepted, in bytes; larger pushes get 413. Default 4 MiB (distribution's). */
  manifestBytes?: number;
  /** Largest blob accepted, in bytes; larger uploads get 413. Default: no limit. */
  blobBytes?: number;
  /** Largest `n` for tag and catalog pages; more gets 400 PAGINATION_NUMBER_INVALID. Default 1000. */
  maxPageSize?: number;
  /** Requests kept in the request log. Default 10000. */
  requestLogEntries?: number;
}

/** What the registry checks when a manifest is pushed, beyond digests and JSON shape. */
export interface ValidationOptions {
  /** An image manifest's config and layers must be in the repository. Default true. */
  blobReferences?: boolean;
  /** An index's child manifests must be in the repository. Default true. */
  manifestReferences?: boolean;
}

/** One line of the registry's own log. */
export interface RegistryLogEntry {
  level: "info" | "error";
  message: string;
  request?: RequestRecord;
  error?: unknown;
}

export interface RegistryOptions {
  /** Where content is kept. Default: a fresh {@link memoryStorage}. */
  storage?: RegistryStorage;
  /** Basic or bearer authentication. Default: none, everyone may do everything. */
  auth?: AuthOptions;
  /** Fault injection rules, for testing clients against a misbehaving registry. */
  faults?: FaultOptions;
  limits?: RegistryLimits;
  validation?: ValidationOptions;
  /** Serve the referrers API and answer pushes with `OCI-Subject`. Default true. */
  referrers?: boolean;
  /** Allow deleting manifests, tags and blobs. Default true; when false they get 405. */
  deletes?: boolean;
  /** Allow cross-repository blob mounts. Default true; when false mounts get 202 and an upload. */
  mount?: boolean;
  /** Receives a line per request and one per internal error. Default: silent. */
  logger?: (entry: RegistryLogEntry) => void;
}

/** A registry as a request handler, for any node:http or node:https server. */
export interface Registry {
  /** The request listener: `http.createServer(registry.handle)`. Never throws. */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  readonly storage: RegistryStorage;
  /** Requests handled so far (bounded by `limits.requestLogEntries`), oldest first. */
  requests(): readonly RequestRecord[];
  clearRequests(): void;
  /** Aborts the requests in flight; later requests are still served. */
  abortInFlight(): void;
}

// A body this small is read and dropped after an early answer, keeping the connection usable;
// anything larger (or of unknown length) closes the connection instead.
const DRAIN_LIMIT = 1024 * 1024;

function positive(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== "number" ||
    !(value > 0) ||
    (Number.isFinite(value) && !Number.isInteger(value))
  ) {
    throw new RegistryError(`${name} must be a positive integer, got ${quote(value)}`, {
      code: "HOIST_REGISTRY_INVALID_OPTION",
      operation: "create registry",
    });
  }
  return value;
}

function checkShape(options: RegistryOptions): void {
  const fail = (message: string) => {
    throw new RegistryError(message, {
      code: "HOIST_REGISTRY_INVALID_OPTION",
      operation: "create registry",
    });
  };
  for (const name of ["referrers", "deletes", "mount"] as const) {
    if (options[name] !== undefined && typeof options[name] !== "boolean") {
      fail(`${name} must be true or false, got ${quote(options[name])}`);
    }
  }
  for (const name of ["blobReferences", "manifestReferences"] as const) {
    const value = options.validation?.[name];
    if (value !== undefined && typeof value !== "boolean") {
      fail(`validation.${name} must be true or false, got ${quote(value)}`);
    }
  }
  if (options.logger !== undefined && typeof options.logger !== "function") {
    fail(`logger must be a function receiving log entries, got ${quote(options.logger)}`);
  }
  const storage = options.storage as Partial<RegistryStorage> | undefined;
  if (
    storage !== undefined &&
    (typeof storage !== "object" || typeof storage?.statBlob !== "function")
  ) {
    fail("storage must be a RegistryStorage, such as memoryStorage() or fileStorage(dir)");
  }
}

/** Builds a registry without a server: use {@link Registry.handle} with your own. */
export function createRegistry(options: RegistryOptions = {}): Registry {
  if (typeof options !== "object" || options === null) {
    throw new RegistryError(`createRegistry() takes an options object, got ${quote(options)}`, {
      code: "HOIST_REGISTRY_INVALID_OPTION",
      operation: "create registry",
    });
  }
  checkShape(options);
  const limits = options.limits ?? {};
  const core: RegistryCore = {
    storage: options.storage ?? memoryStorage(),
    limits: {
      manifestBytes: positive(limits.manifestBytes, "limits.manifestBytes", 4 * 1024 * 1024),
      blobBytes: positive(limits.blobBytes, "limits.blobBytes", Number.POSITIVE_INFINITY),
      maxPageSize: positive(limits.maxPageSize, "limits.maxPageSize", 1000),
      defaultCatalogPageSize: 100,
    },
    validation: {
      blobReferences: options.validation?.blobReferences ?? true,
      manifestReferences: options.validation?.manifestReferences ?? true,
    },
    referrers: options.referrers ?? true,
    deletes: options.deletes ?? true,
    mount: options.mount ?? true,
    uploadLocks: new KeyedMutex(),
    repositoryLocks: new KeyedMutex(),
    runningHashes: new Map(),
  };
  core.limits.defaultCatalogPageSize = Math.min(100, core.limits.maxPageSize);
  const auth = createAuthenticator(options.auth);
  const faults = createFaultInjector(options.faults);
  const log = new RequestLog(
    positive(limits.requestLogEntries, "limits.requestLogEntries", 10_000),
  );
  const logger = options.logger;
  const inFlight = new Set<AbortController>();

  /** Routing, auth and the handlers: the registry's answer to one request. */
  const answer = async (req: IncomingMessage, url: URL, route: Route, signal: AbortSignal) => {
    const method = req.method ?? "GET";
    try {
      if (route.kind === "token") return auth.token(req, url);
      if (route.kind === "unknown") {
        throw apiError(
          404,
          "UNSUPPORTED",
          `${method} ${quote(url.pathname)} is not part of the registry API`,
        );
      }
      const allowed = ROUTE_METHODS[route.kind];
      if (!allowed.includes(method)) {
        throw apiError(
          405,
          "UNSUPPORTED",
          `${method} is not allowed here; use ${allowed.join(", ")}`,
          undefined,
          {
            Allow: allowed.join(", "),
          },
        );
      }
      const repository = routeRepository(route);
      if (repository !== undefined) {
        const problem = repositoryNameProblem(repository);
        if (problem)
          throw apiError(400, "NAME_INVALID", problem, { name: repository.slice(0, 300) });
      }
      const grant = auth.authorize(req, route, baseUrl(req));
      if (grant instanceof DistributionError) throw grant;
      return await dispatch(core, { req, url, method, signal, grant }, route);
    } catch (error) {
      return errorAnswer(error);
    }
  };

  const errorAnswer = (error: unknown): RegistryResponse => {
    if (error instanceof DistributionError) return errorResponse(error);
    if (RegistryError.is(error)) {
      if (error.code === "HOIST_REGISTRY_UPLOAD_UNKNOWN")
        return errorResponse(apiError(404, "BLOB_UPLOAD_UNKNOWN"));
      if (error.code === "HOIST_REGISTRY_BLOB_UNKNOWN")
        return errorResponse(apiError(404, "BLOB_UNKNOWN"));
      if (error.code === "HOIST_REGISTRY_DIGEST_MISMATCH") {
        return errorResponse(apiError(400, "DIGEST_INVALID", error.message));
      }
    }
    throw error;
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const startedAt = new Date();
    const controller = new AbortController();
    inFlight.add(controller);
    res.once("close", () => {
      inFlight.delete(controller);
      if (!res.writableFinished) controller.abort(new Error("the client went away"));
    });
    const url = requestUrl(req);
    const route = matchRoute(url.pathname);
    const method = req.method ?? "GET";
    const record: RequestRecord = {
      method,
      path: url.pathname,
      url: url.pathname + url.search,
      route: route.kind,
      status: 0,
      startedAt,
      durationMs: 0,
    };
    const repository = routeRepository(route);
    if (repository !== undefined) record.repository = repository;

    const run = async () => {
      const fired = faults?.pick({ method, route, url });
      if (fired) record.fault = fired.name;
      const response = fired
        ? await faulted(fired, req, res, url, route, controller.signal)
        : await answer(req, url, route, controller.signal);
      if (response === undefined) return;
      const extra = fired?.rule.headers ?? {};
      const truncateAfter = fired?.rule.reset === "after-headers" ? 0 : fired?.rule.truncateAfter;
      settleBody(req, res);
      await writeResponse(
        req,
        res,
        { ...response, headers: { ...response.headers, ...extra } },
        { truncateAfter },
      );
    };

    const finish = () => {
      record.status = res.headersSent ? res.statusCode : 0;
      record.durationMs = Date.now() - startedAt.getTime();
      log.add(record);
      logger?.({
        level: "info",
        message: `${method} ${record.url} ${record.status}`,
        request: record,
      });
    };

    run()
      .catch(async (error: unknown) => {
        if (controller.signal.aborted || res.destroyed) return;
        logger?.({
          level: "error",
          message: `${method} ${record.url} failed: ${String(error)}`,
          request: record,
          error,
        });
        settleBody(req, res);
        await writeResponse(
          req,
          res,
          errorResponse(
            apiError(
              500,
              "UNKNOWN",
              `internal error: ${(error as Error)?.message ?? String(error)}`,
            ),
          ),
        ).catch(() => res.destroy());
      })
      .finally(finish);
  };

  /** Applies a fault rule. Returns the answer to write, or undefined when nothing is to be written. */
  const faulted = async (
    fired: FiredFault,
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    route: Route,
    signal: AbortSignal,
  ): Promise<RegistryResponse | undefined> => {
    const rule = fired.rule;
    if (rule.latencyMs) await delay(rule.latencyMs, undefined, { signal });
    if (rule.reset === "before-response") {
      req.socket.destroy();
      res.destroy();
      return undefined;
    }
    if (rule.status !== undefined) {
      const code = (rule.code ?? codeForStatus(rule.status)) as DistributionErrorCode;
      const headers: Record<string, string> = {};
      if (rule.retryAfter !== undefined) headers["Retry-After"] = String(rule.retryAfter);
      const message =
        rule.message ?? DISTRIBUTION_ERROR_MESSAGES[code] ?? `injected ${rule.status}`;
      return errorResponse(apiError(rule.status, code, message, { fault: fired.name }, headers));
    }
    if (rule.respond) {
      let forwarded = false;
      const context: FaultContext = {
        request: req,
        url,
        route,
        rule: fired.name,
        random: () => faults?.random() ?? Math.random(),
        forward: async () => {
          if (forwarded)
            throw new Error("FaultContext.forward() can be called only once per request");
          forwarded = true;
          const real = await answer(req, url, route, signal);
          const body = await collect(real.body);
          return { ...real, body };
        },
      };
      const custom = await rule.respond(context);
      if (custom) return custom;
      if (forwarded) {
        throw new Error(
          `fault rule ${quote(fired.name)} called forward() but returned no response`,
        );
      }
    }
    return answer(req, url, route, signal);
  };

  return {
    handle,
    storage: core.storage,
    requests: () => log.list(),
    clearRequests: () => log.clear(),
    abortInFlight: () => {
      for (const controller of inFlight) controller.abort(new Error("the registry is closing"));
    },
  };
}

async function dispatch(
  core: RegistryCore,
  ctx: RequestContext,
  route: Route,
): Promise<RegistryResponse> {
  const { method } = ctx;
  switch (route.kind) {
    case "ping":
      return jsonResponse(200, {});
    case "catalog":
      return listCatalog(core, ctx);
    case "tags":
      return listTags(core, ctx, route.repository);
    case "referrers":
      return listReferrers(core, ctx, route.repository, route.digest);
    case "blob":
      return method === "DELETE"
        ? deleteBlob(core, ctx, route.repository, route.digest)
        : getBlob(core, ctx, route.repository, route.digest);
    case "manifest":
      if (method === "PUT") return putManifest(core, ctx, route.repository, route.reference);
      if (method === "DELETE") return deleteManifest(core, ctx, route.repository, route.reference);
      return getManifest(core, ctx, route.repository, route.reference);
    case "upload-start":
      return startUpload(core, ctx, route.repository);
    case "upload":
      if (method === "PATCH") return patchUpload(core, ctx, route.repository, route.id);
      if (method === "PUT") return finishUpload(core, ctx, route.repository, route.id);
      if (method === "DELETE") return cancelUpload(core, ctx, route.repository, route.id);
      return uploadStatus(core, ctx, route.repository, route.id);
    default:
      throw apiError(404, "UNSUPPORTED");
  }
}

/**
 * The request target as a URL. Concatenated rather than resolved, so a target such as
 * "//host/x" stays a path; anything unparsable becomes "/" (and so an unknown route).
 */
function requestUrl(req: IncomingMessage): URL {
  try {
    return new URL(`http://registry.invalid${req.url?.startsWith("/") ? req.url : "/"}`);
  } catch {
    return new URL("http://registry.invalid/");
  }
}

/** The URL the client used to reach the registry (for token realms). */
function baseUrl(req: IncomingMessage): string {
  const secure = (req.socket as TLSSocket).encrypted === true;
  return `${secure ? "https" : "http"}://${req.headers.host ?? "localhost"}`;
}

/**
 * A request body left unread by an early answer (401 on a PUT, say) must not be mistaken for
 * the next request: drop a small one, or close the connection after a large one.
 */
function settleBody(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete || req.readableEnded) return;
  const length = declaredLength(req);
  if (length !== undefined && length <= DRAIN_LIMIT) {
    req.resume();
  } else if (!res.headersSent) {
    res.setHeader("Connection", "close");
  }
}

async function collect(body: RegistryResponse["body"]): Promise<Buffer> {
  if (body === undefined) return Buffer.alloc(0);
  if (typeof body === "string") return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
