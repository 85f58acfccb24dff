import {
  parseLinkHeader,
  RegistryError,
  type Session,
  type TransportResponse,
} from "@hoist/transport";
import { z } from "zod";
import { RemoteError } from "./errors.js";
import { translating } from "./translate-error.js";

/** Tag lists and catalogs can be long when a registry ignores `n`; still, not unbounded. */
const MAX_PAGE_BYTES = 32 * 1024 * 1024;
/** A registry that keeps sending pages past this is looping in a way URLs do not show. */
const MAX_PAGES = 100_000;
/** Page sizes to fall back to when a registry refuses `n` (Quay caps at 100), then none at all. */
const SMALLER_PAGES = [100, 0];

const TagsSchema = z.object({ tags: z.array(z.string()).nullable().optional() });
const CatalogSchema = z.object({ repositories: z.array(z.string()).nullable().optional() });

export interface PageOptions {
  session: Session;
  /** "/v2/<repo>/tags/list" or "/v2/_catalog". */
  path: string;
  kind: "tags" | "repositories";
  /** `n`; 0 leaves it out. */
  pageSize: number;
  /** `last`, for a single catalog page. */
  last?: string | undefined;
  signal: AbortSignal | undefined;
  operation: string;
  reference: string;
}

function pageUrl(path: string, n: number, last: string | undefined): string {
  const query = new URLSearchParams();
  if (last !== undefined) query.set("last", last);
  if (n > 0) query.set("n", String(n));
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** Whether a registry refused the page size (ECR: 400/405 above 1000; Quay: 413 above 100). */
function refusedPageSize(error: unknown): boolean {
  return (
    RegistryError.is(error) &&
    ([400, 405, 413, 416].includes(error.status) ||
      error.hasCode("PAGINATION_NUMBER_INVALID") ||
      error.hasCode("UNSUPPORTED"))
  );
}

function pageSizes(first: number): number[] {
  return [first, ...SMALLER_PAGES.filter((size) => first === 0 || size < first)].filter(
    (size, at, all) => all.indexOf(size) === at,
  );
}

async function readPage(
  response: TransportResponse,
  kind: "tags" | "repositories",
  reference: string,
  operation: string,
): Promise<string[]> {
  const body = await response.json({ limit: MAX_PAGE_BYTES });
  const parsed = (kind === "tags" ? TagsSchema : CatalogSchema).safeParse(body);
  if (!parsed.success) {
    throw new RemoteError(
      `${operation} ${reference}: the registry's answer is not a ${kind} list: ${parsed.error.issues[0]?.message ?? "invalid"}`,
      { code: "HOIST_REMOTE_BAD_RESPONSE", operation, reference, status: response.status },
    );
  }
  const data = parsed.data as { tags?: string[] | null; repositories?: string[] | null };
  return (kind === "tags" ? data.tags : data.repositories) ?? [];
}

/**
 * The next page's URL from a `Link` header: the `rel="next"` link (or the only link, for
 * registries that leave out `rel`), resolved against the page's URL. It must stay on the
 * registry's origin: a hostile registry must not steer the client elsewhere.
 */
function nextPage(
  response: TransportResponse,
  session: Session,
  context: PageOptions,
): URL | undefined {
  const header = response.headers.get("link");
  if (!header) return undefined;
  const links = parseLinkHeader(header);
  const link =
    links.find((entry) => entry.rel.includes("next")) ??
    (links.length === 1 ? links[0] : undefined);
  if (!link || link.target === "") return undefined;
  let url: URL;
  try {
    url = new URL(link.target, response.url);
  } catch (cause) {
    throw new RemoteError(
      `${context.operation} ${context.reference}: the next-page link ${JSON.stringify(link.target.slice(0, 200))} is not a URL`,
      {
        code: "HOIST_REMOTE_PAGINATION",
        operation: context.operation,
        reference: context.reference,
        cause,
      },
    );
  }
  if (url.origin !== session.origin) {
    throw new RemoteError(
      `${context.operation} ${context.reference}: the next-page link points at ${url.origin}, not the registry (${session.origin}); refusing to follow it`,
      {
        code: "HOIST_REMOTE_PAGINATION",
        operation: context.operation,
        reference: context.reference,
      },
    );
  }
  return url;
}

async function firstPage(
  options: PageOptions,
  sizes: readonly number[],
): Promise<TransportResponse> {
  let lastError: unknown;
  for (const size of sizes) {
    try {
      return await options.session.request({
        method: "GET",
        path: pageUrl(options.path, size, options.last),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      if (!refusedPageSize(error)) throw error;
      lastError = error;
    }
  }
  throw lastError;
}

/** One page: its names and the `last` to ask for the next one, if there is one. */
export async function onePage(
  options: PageOptions,
): Promise<{ names: string[]; next: URL | undefined }> {
  return translating(options, async () => {
    const response = await firstPage(options, pageSizes(options.pageSize));
    const names = await readPage(response, options.kind, options.reference, options.operation);
    return { names, next: nextPage(response, options.session, options) };
  });
}

/**
 * Every name, following `Link` pagination. Guards: a page URL seen before (a loop),
 * a page that brings nothing new while promising more, and a hard cap on pages.
 */
export async function allPages(options: PageOptions): Promise<string[]> {
  return translating(options, async () => {
    const seen = new Set<string>();
    const names: string[] = [];
    const visited = new Set<string>();
    let response = await firstPage(options, pageSizes(options.pageSize));
    visited.add(new URL(response.url).href);
    for (let pages = 1; ; pages++) {
      const page = await readPage(response, options.kind, options.reference, options.operation);
      let fresh = 0;
      for (const name of page) {
        if (seen.has(name)) continue;
        seen.add(name);
        names.push(name);
        fresh++;
      }
      const next = nextPage(response, options.session, options);
      if (!next) return names;
      const loop = (why: string) =>
        new RemoteError(
          `${options.operation} ${options.reference}: ${why} after ${pages} pages; the registry's pagination is broken`,
          {
            code: "HOIST_REMOTE_PAGINATION",
            operation: options.operation,
            reference: options.reference,
          },
        );
      if (visited.has(next.href))
        throw loop(`the next-page link ${next.pathname}${next.search} repeats`);
      if (fresh === 0) throw loop("a page brought no new names yet links to another");
      if (pages >= MAX_PAGES) throw loop(`more than ${MAX_PAGES} pages`);
      visited.add(next.href);
      response = await options.session.request({
        method: "GET",
        url: next,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    }
  });
}
