import { OciError } from "./errors.js";
import { Hash } from "./hash.js";
import { hashStream } from "./hashing-stream.js";
import type { Image, ImageIndex, ReadOptions } from "./interfaces.js";
import { isImage, isIndex } from "./media-type.js";

// go-containerregistry's validate package: recompute what an image or index declares (digests,
// sizes, diffIDs, media types) and report every disagreement. Sources that verify as they
// stream (remote images, layouts) fail with their own mismatch errors; those are collected as
// problems too, so one call lists everything that is wrong.

export interface ValidateOptions extends ReadOptions {
  /** Do not read layer bytes: check the layers' declared digests, sizes and diffIDs only. */
  fast?: boolean;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function attempt(
  problems: string[],
  what: string,
  check: () => Promise<void>,
): Promise<void> {
  try {
    await check();
  } catch (error) {
    if ((error as { name?: string })?.name === "AbortError") throw error;
    problems.push(`${what}: ${describe(error)}`);
  }
}

function failure(kind: string, problems: string[]): OciError {
  return new OciError(`${kind} failed validation: ${problems.join("; ")}`, {
    code: "HOIST_OCI_VALIDATION_FAILED",
    operation: `validate ${kind}`,
  });
}

async function imageProblems(image: Image, options: ValidateOptions): Promise<string[]> {
  const read: ReadOptions = options.signal ? { signal: options.signal } : {};
  const problems: string[] = [];
  const raw = await image.rawManifest(read);
  const manifest = await image.manifest(read);

  await attempt(problems, "manifest", async () => {
    const digest = Hash.compute(raw);
    const declared = await image.digest(read);
    if (!digest.equals(declared))
      problems.push(`manifest: digest is ${digest}, image says ${declared}`);
    const size = await image.size(read);
    if (size !== raw.byteLength)
      problems.push(`manifest: size is ${raw.byteLength}, image says ${size}`);
    const mediaType = await image.mediaType(read);
    if (manifest.mediaType !== undefined && manifest.mediaType !== mediaType) {
      problems.push(`manifest: mediaType field is ${manifest.mediaType}, image says ${mediaType}`);
    }
  });

  let diffIDs: string[] = [];
  await attempt(problems, "config", async () => {
    const rawConfig = await image.rawConfigFile(read);
    const digest = Hash.compute(rawConfig);
    if (String(digest) !== String(manifest.config.digest)) {
      problems.push(`config: digest is ${digest}, manifest says ${manifest.config.digest}`);
    }
    if (rawConfig.byteLength !== manifest.config.size) {
      problems.push(
        `config: size is ${rawConfig.byteLength}, manifest says ${manifest.config.size}`,
      );
    }
    const name = await image.configName(read);
    if (!name.equals(digest)) problems.push(`config: name is ${name}, content hashes to ${digest}`);
    diffIDs = ((await image.configFile(read)).rootfs?.diff_ids ?? []).map(String);
  });

  const layers = await image.layers(read);
  if (layers.length !== manifest.layers.length) {
    problems.push(`layers: image has ${layers.length}, manifest lists ${manifest.layers.length}`);
  }
  if (diffIDs.length !== manifest.layers.length) {
    problems.push(
      `layers: config has ${diffIDs.length} diff_ids, manifest lists ${manifest.layers.length} layers`,
    );
  }
  for (const [position, layer] of layers.entries()) {
    const what = `layer ${position}`;
    const listed = manifest.layers[position];
    await attempt(problems, what, async () => {
      const [digest, diffID, size] = await Promise.all([
        layer.digest(read),
        layer.diffID(read),
        layer.size(read),
      ]);
      if (listed && String(listed.digest) !== String(digest)) {
        problems.push(`${what}: digest is ${digest}, manifest says ${listed.digest}`);
      }
      if (listed && listed.size !== size) {
        problems.push(`${what}: size is ${size}, manifest says ${listed.size}`);
      }
      if (diffIDs[position] !== undefined && diffIDs[position] !== String(diffID)) {
        problems.push(`${what}: diffID is ${diffID}, config says ${diffIDs[position]}`);
      }
      if (options.fast) return;
      const compressed = await hashStream(await layer.compressed(read), read);
      if (!compressed.hash.equals(digest)) {
        problems.push(`${what}: content hashes to ${compressed.hash}, layer says ${digest}`);
      }
      if (compressed.size !== size) {
        problems.push(`${what}: content has ${compressed.size} bytes, layer says ${size}`);
      }
      const uncompressed = await hashStream(await layer.uncompressed(read), read);
      if (!uncompressed.hash.equals(diffID)) {
        problems.push(
          `${what}: uncompressed content hashes to ${uncompressed.hash}, diffID is ${diffID}`,
        );
      }
    });
  }
  return problems;
}

/**
 * Recomputes an image's manifest, config and (unless `fast`) layer digests, sizes and diffIDs,
 * and compares them with what the manifest, config and layers declare. Resolves when all agree;
 * otherwise throws `HOIST_OCI_VALIDATION_FAILED` listing every problem.
 */
export async function validateImage(image: Image, options: ValidateOptions = {}): Promise<void> {
  const problems = await imageProblems(image, options);
  if (problems.length > 0) throw failure("image", problems);
}

async function indexProblems(
  index: ImageIndex,
  options: ValidateOptions,
  depth: number,
): Promise<string[]> {
  const read: ReadOptions = options.signal ? { signal: options.signal } : {};
  const problems: string[] = [];
  const raw = await index.rawManifest(read);
  const digest = Hash.compute(raw);
  const declared = await index.digest(read);
  if (!digest.equals(declared)) problems.push(`index: digest is ${digest}, index says ${declared}`);
  if ((await index.size(read)) !== raw.byteLength) {
    problems.push(`index: size is ${raw.byteLength}, index says ${await index.size(read)}`);
  }
  if (depth > 16) {
    problems.push("index: nested more than 16 levels deep");
    return problems;
  }
  for (const child of (await index.indexManifest(read)).manifests) {
    const what = `child ${child.digest}`;
    await attempt(problems, what, async () => {
      if (isImage(child.mediaType)) {
        const image = await index.image(child.digest, read);
        if (!(await image.digest(read)).equals(Hash.parse(String(child.digest)))) {
          problems.push(`${what}: image digest is ${await image.digest(read)}`);
        }
        if ((await image.size(read)) !== child.size) {
          problems.push(
            `${what}: manifest has ${await image.size(read)} bytes, index says ${child.size}`,
          );
        }
        for (const problem of await imageProblems(image, options))
          problems.push(`${what}: ${problem}`);
      } else if (isIndex(child.mediaType)) {
        const nested = await index.imageIndex(child.digest, read);
        for (const problem of await indexProblems(nested, options, depth + 1)) {
          problems.push(`${what}: ${problem}`);
        }
      }
    });
  }
  return problems;
}

/** Validates an index and, recursively, every image and index it lists. */
export async function validateIndex(
  index: ImageIndex,
  options: ValidateOptions = {},
): Promise<void> {
  const problems = await indexProblems(index, options, 0);
  if (problems.length > 0) throw failure("index", problems);
}
