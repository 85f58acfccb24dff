import { posix } from "node:path";
import { pipeline } from "node:stream/promises";
import { Registry } from "@hoist/name";
import { isIndex } from "@hoist/oci";
import { usageError, context as wrap } from "../errors.js";
import type { Action } from "../program.js";
import { digestReference, puller, reference, repository } from "../remote-support.js";

/** `hoist digest IMAGE` / `--tarball PATH [TAG]`: `sha256:…`, or `repo@sha256:…` with --full-ref. */
export const digest: Action = async (context, args, options) => {
  const tarball = typeof options.tarball === "string" ? options.tarball : "";
  if (!tarball && args.length === 0) {
    throw usageError("image reference required without --tarball", "digest");
  }
  if (options.fullRef && tarball) {
    throw usageError("cannot specify --full-ref with --tarball", "digest");
  }
  let value: string;
  if (tarball) {
    // Loaded only here: the tar code is not needed to ask a registry for a digest.
    const { imageFromTarball } = await import("@hoist/tarball");
    let image: Awaited<ReturnType<typeof imageFromTarball>>;
    try {
      image = await imageFromTarball(tarball, {
        signal: context.signal,
        ...(args[0] ? { tag: reference(context, args[0]) } : {}),
      });
    } catch (error) {
      throw wrap(`loading image from "${tarball}"`, error);
    }
    value = String(await image.digest({ signal: context.signal }));
  } else {
    const ref = reference(context, args[0] as string);
    const client = await puller(context);
    const platform = await context.platform();
    if (platform) {
      // With a platform, an index answers with the digest of its image for that platform.
      const descriptor = await client.get(ref);
      value = isIndex(descriptor.descriptor.mediaType)
        ? String(await (await descriptor.image({ platform })).digest())
        : String(await descriptor.digest());
    } else {
      value = String((await client.head(ref)).digest);
    }
    if (options.fullRef) value = digestReference(ref, value);
  }
  await context.out(`${value}\n`);
};

/** `hoist manifest IMAGE`: the manifest bytes exactly as served, no newline. */
export const manifest: Action = async (context, args) => {
  const source = args[0] as string;
  try {
    const descriptor = await (await puller(context)).get(reference(context, source));
    const platform = await context.platform();
    if (platform && isIndex(descriptor.descriptor.mediaType)) {
      const image = await descriptor.image({ platform });
      await context.out(await image.rawManifest());
      return;
    }
    await context.out(descriptor.manifest);
  } catch (error) {
    throw wrap(`fetching manifest ${source}`, error);
  }
};

/** `hoist config IMAGE`: the config blob exactly as stored, no newline. */
export const config: Action = async (context, args) => {
  try {
    const image = await (await puller(context)).image(reference(context, args[0] as string));
    await context.out(await image.rawConfigFile({ signal: context.signal }));
  } catch (error) {
    throw wrap("fetching config", error);
  }
};

/** `hoist ls REPO`: one tag per line. */
export const ls: Action = async (context, args, options) => {
  const repo = repository(context, args[0] as string);
  let tags: string[];
  try {
    tags = await (await puller(context)).list(repo);
  } catch (error) {
    throw wrap(`reading tags for ${repo.name}`, error);
  }
  let text = "";
  for (const tag of tags) {
    if (options.omitDigestTags && tag.startsWith("sha256-")) continue;
    text += options.fullRef ? `${repo.tag(tag).toString()}\n` : `${tag}\n`;
  }
  await context.out(text);
};

/** `hoist catalog REGISTRY`: one repository per line. */
export const catalog: Action = async (context, args, options) => {
  const source = args[0] as string;
  const registry = Registry.parse(source, context.nameOptions);
  let repositories: string[];
  try {
    repositories = await (await puller(context)).catalog(registry);
  } catch (error) {
    throw wrap(`reading catalog of ${registry.host}`, error);
  }
  // crane joins the argument as given, so `--full-ref` echoes the user's spelling.
  await context.out(
    repositories.map((repo) => `${options.fullRef ? posix.join(source, repo) : repo}\n`).join(""),
  );
};

/** `hoist blob REPO@DIGEST`: the blob's bytes, verified while they stream. */
export const blob: Action = async (context, args) => {
  const source = args[0] as string;
  try {
    const layer = await (await puller(context)).layer(reference(context, source));
    const stream = await layer.compressed({ signal: context.signal });
    await pipeline(stream, context.io.stdout, { end: false });
  } catch (error) {
    throw wrap(`pulling layer ${source}`, error);
  }
};
