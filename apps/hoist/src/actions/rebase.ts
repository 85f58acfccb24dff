import { isIndex, rebase as rebaseImage, setAnnotations } from "@hoist/oci";
import { CliError, usageError, context as wrap } from "../errors.js";
import type { Action } from "../program.js";
import {
  BASE_DIGEST,
  BASE_NAME,
  digestReference,
  isDigest,
  puller,
  pusher,
  reference,
  remoteProgress,
} from "../remote-support.js";

/**
 * `hoist rebase IMAGE --old_base OLD --new_base NEW [-t TAG]`: the image's own layers moved from
 * OLD onto NEW (both default to the image's base annotations), pushed over the original, to
 * `-t`, or by digest for a digest reference. Prints `repo@sha256:…`.
 */
export const rebase: Action = async (context, args, options) => {
  let original = typeof options.original === "string" ? options.original : "";
  if (original && args.length > 0 && args[0] !== "") {
    throw usageError("cannot use --original with positional argument", "rebase");
  }
  if (!original) original = args[0] as string;
  let rebased =
    (typeof options.tag === "string" && options.tag) ||
    (typeof options.rebased === "string" && options.rebased) ||
    original;
  const client = await puller(context);
  const head = await client.head(reference(context, original));
  if (!context.flags.platform && isIndex(head.mediaType)) {
    throw new CliError("rebasing an index is not yet supported", {
      code: "HOIST_CLI_UNSUPPORTED",
      operation: "rebase",
      input: original,
    });
  }
  const origImage = await client.image(reference(context, original));
  const annotations = (await origImage.manifest()).annotations ?? {};
  let newBase = typeof options.new_base === "string" ? options.new_base : "";
  let oldBase = typeof options.old_base === "string" ? options.old_base : "";
  if (!newBase) newBase = annotations[BASE_NAME] ?? "";
  if (!newBase) throw usageError("could not determine new base image from annotations", "rebase");
  const newBaseRef = reference(context, newBase);
  if (!oldBase && annotations[BASE_DIGEST]) {
    oldBase = newBaseRef.repository.digest(annotations[BASE_DIGEST]).toString();
  }
  if (!oldBase) {
    throw usageError("could not determine old base image by digest from annotations", "rebase");
  }
  let result: Awaited<ReturnType<typeof rebaseImage>>;
  try {
    const [oldImage, newImage] = await Promise.all([
      client.image(reference(context, oldBase)),
      client.image(newBaseRef),
    ]);
    // The new base's digest comes from a HEAD: an index's own digest when the base is an index.
    const newBaseDigest = String((await client.head(newBaseRef)).digest);
    result = setAnnotations(await rebaseImage(origImage, oldImage, newImage), {
      [BASE_DIGEST]: newBaseDigest,
      [BASE_NAME]: newBase,
    });
  } catch (error) {
    throw wrap("rebasing image", error);
  }
  const digest = String(await result.digest());
  if (digest === String(await origImage.digest())) context.warn("rebasing was no-op");
  const target = reference(context, rebased);
  const destination = isDigest(target) ? target.repository.digest(digest) : target;
  rebased = destination.toString();
  context.log(`pushing rebased image as ${rebased}`);
  const { view, onProgress } = await remoteProgress(context, "pushing");
  try {
    await (await pusher(context)).write(destination, result, { onProgress });
  } catch (error) {
    throw wrap(`pushing ${rebased}`, error);
  } finally {
    view.stop();
  }
  await context.out(`${digestReference(target, digest)}\n`);
};
