import type { Reference } from "@hoist/name";
import type { RemoteClient } from "./client.js";
import { translating } from "./translate-error.js";

// go-containerregistry's delete.go.

/**
 * Deletes the manifest `reference` names. The token asks for pull, push and delete (IBM Cloud
 * wants all three). The referrers fallback tag of a deleted referrer is left as it is.
 */
export async function deleteReference(
  client: RemoteClient,
  reference: Reference,
  signal: AbortSignal | undefined,
): Promise<void> {
  await translating(
    { operation: "delete manifest", reference: reference.name, signal },
    async () => {
      const session = await client.session(reference.repository, "delete", signal);
      const response = await session.request({
        method: "DELETE",
        path: `/v2/${reference.repository.path}/manifests/${reference.identifier}`,
        expectStatus: [200, 202, 204],
        ...(signal ? { signal } : {}),
      });
      await response.discard();
    },
  );
}
