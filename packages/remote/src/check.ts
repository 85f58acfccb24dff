import type { Repository } from "@hoist/name";
import type { RemoteClient } from "./client.js";
import { translating } from "./translate-error.js";
import { cancelUpload, uploadLocation } from "./upload-session.js";

// go-containerregistry's check.go.

/**
 * Resolves when the credentials may push to `repository`. Docker Hub enforces push only when
 * an upload starts, so this starts one (with a push token) and abandons it.
 */
export async function checkPushPermission(
  client: RemoteClient,
  repository: Repository,
  signal: AbortSignal | undefined,
): Promise<void> {
  await translating(
    { operation: "check push permission", reference: repository.name, signal },
    async () => {
      const session = await client.session(repository, "push", signal);
      const response = await session.request({
        method: "POST",
        path: `/v2/${repository.path}/blobs/uploads/`,
        expectStatus: [202],
        idempotent: true,
        ...(signal ? { signal } : {}),
      });
      await response.discard();
      const location = uploadLocation(response, "check push permission");
      if (location) cancelUpload(session, location);
    },
  );
}
