import { writeFile } from "node:fs/promises";
import type { Reference } from "@hoist/name";
import type { Image, ImageIndex } from "@hoist/oci";
import type { Context } from "../context.js";
import { CliError } from "../errors.js";
import { type LocalImage, loadLocal } from "../local-images.js";
import type { Action } from "../program.js";
import { digestReference, pusher, reference, remoteProgress } from "../remote-support.js";
import { trackedLayers } from "../track-layers.js";

/** `hoist push PATH IMAGE`: a docker tarball or an OCI layout to a registry; prints `repo@sha256:…`. */
export const push: Action = async (context, args, options) => {
  const [path, target] = args as [string, string];
  // Stopped if the image cannot be read: no credential helper runs for a push that never starts.
  const ahead = new AbortController();
  prepareAhead(context, target, AbortSignal.any([context.signal, ahead.signal]));
  let local: LocalImage;
  try {
    local = await loadLocal(path, { index: options.index === true, signal: context.signal });
  } catch (error) {
    ahead.abort();
    throw error;
  }
  const ref = reference(context, target);
  const client = await pusher(context);
  const { view, onProgress } = await remoteProgress(context, "pushing");
  let pushed: string;
  try {
    // On a terminal each layer gets a line: uploading while read, "exists" if never read.
    const tracked = context.interactive
      ? trackedLayers(local.kind === "image" ? local.image : local.index, view, "uploading")
      : undefined;
    const descriptor =
      local.kind === "image"
        ? await client.write(ref, (tracked?.item as Image | undefined) ?? local.image, {
            onProgress,
          })
        : await client.writeIndex(ref, (tracked?.item as ImageIndex | undefined) ?? local.index, {
            onProgress,
          });
    tracked?.settle("exists");
    pushed = digestReference(ref, String(descriptor.digest));
  } finally {
    view.stop();
  }
  if (typeof options.imageRefs === "string" && options.imageRefs !== "") {
    try {
      await writeFile(options.imageRefs, pushed, { mode: 0o600 });
    } catch (cause) {
      throw new CliError(
        `failed to write image refs to ${options.imageRefs}: ${(cause as Error).message}`,
        { code: "HOIST_CLI_IO", operation: "push", input: options.imageRefs, cause },
      );
    }
  }
  await context.out(`${pushed}\n`);
};

/**
 * Starts the registry's ping and the credential lookup while the image is read from disk, so
 * the push's first request does not wait for them. Errors are left to the steps that report
 * them in crane's order: a bad path before a bad reference, and a failed handshake by the push.
 */
function prepareAhead(context: Context, target: string, signal: AbortSignal): void {
  let ref: Reference;
  try {
    ref = reference(context, target);
  } catch {
    return;
  }
  pusher(context)
    .then((client) => client.prepare(ref, { signal }))
    .catch(() => {});
}
