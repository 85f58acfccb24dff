import { writeFile } from "node:fs/promises";
import type { Image, ImageIndex } from "@hoist/oci";
import { CliError } from "../errors.js";
import { loadLocal } from "../local-images.js";
import type { Action } from "../program.js";
import { digestReference, pusher, reference, remoteProgress } from "../remote-support.js";
import { trackedLayers } from "../track-layers.js";

/** `hoist push PATH IMAGE`: a docker tarball or an OCI layout to a registry; prints `repo@sha256:…`. */
export const push: Action = async (context, args, options) => {
  const [path, target] = args as [string, string];
  const local = await loadLocal(path, { index: options.index === true, signal: context.signal });
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
