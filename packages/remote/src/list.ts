import type { Repository } from "@hoist/name";
import type { RemoteClient } from "./client.js";
import type { ResolvedOptions } from "./options.js";
import { allPages } from "./pagination.js";

// go-containerregistry's list.go: a repository's tags, every page.

/** Every tag of `repository`, following `Link` pagination. */
export async function listTags(
  client: RemoteClient,
  repository: Repository,
  options: ResolvedOptions,
): Promise<string[]> {
  const session = await client.session(repository, "pull", options.signal);
  return allPages({
    session,
    path: `/v2/${repository.path}/tags/list`,
    kind: "tags",
    pageSize: options.pageSize,
    signal: options.signal,
    operation: "list tags",
    reference: repository.name,
  });
}
