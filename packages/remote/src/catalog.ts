import type { Registry } from "@hoist/name";
import type { RemoteClient } from "./client.js";
import type { ResolvedOptions } from "./options.js";
import { allPages, onePage, type PageOptions } from "./pagination.js";

// go-containerregistry's catalog.go: a registry's repositories (scope registry:catalog:*),
// all of them or one page at a time.

/** One page of a registry's catalog. */
export interface CatalogPage {
  repositories: string[];
  /** Pass as `last` to get the next page; undefined on the last page. */
  next: string | undefined;
}

async function pageOptions(
  client: RemoteClient,
  registry: Registry,
  options: ResolvedOptions,
): Promise<PageOptions> {
  return {
    session: await client.session(registry, "catalog", options.signal),
    path: "/v2/_catalog",
    kind: "repositories",
    pageSize: options.pageSize,
    signal: options.signal,
    operation: "list repositories",
    reference: registry.host,
  };
}

/** Every repository of `registry`, following `Link` pagination. */
export async function listCatalog(
  client: RemoteClient,
  registry: Registry,
  options: ResolvedOptions,
): Promise<string[]> {
  return allPages(await pageOptions(client, registry, options));
}

/** One page of the catalog, after `last` (exclusive). */
export async function catalogPage(
  client: RemoteClient,
  registry: Registry,
  last: string | undefined,
  options: ResolvedOptions,
): Promise<CatalogPage> {
  const page = await onePage({ ...(await pageOptions(client, registry, options)), last });
  if (!page.next) return { repositories: page.names, next: undefined };
  return {
    repositories: page.names,
    next: page.next.searchParams.get("last") ?? page.names.at(-1),
  };
}
