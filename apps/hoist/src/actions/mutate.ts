import {
  type ConfigFile,
  type Image,
  isIndex,
  parsePlatform,
  setAnnotations,
  setConfigFile,
} from "@hoist/oci";
import { appendFiles } from "../append-files.js";
import { CliError, usageError, context as wrap } from "../errors.js";
import type { EnvPair } from "../flags.js";
import { writeOutputTarball } from "../output-tarball.js";
import type { Action } from "../program.js";
import {
  digestReference,
  isDigest,
  puller,
  pusher,
  reference,
  remoteProgress,
} from "../remote-support.js";

function checkValues(values: Record<string, string>): void {
  for (const [key, value] of Object.entries(values)) {
    if (value === "") {
      throw usageError(`parsing label ${JSON.stringify(key)}, value is empty`, "mutate");
    }
  }
}

/** crane's env rule: replace known keys in place (keeping order), append new ones. */
export function setEnv(config: ConfigFile, pairs: readonly EnvPair[]): void {
  if (pairs.length === 0) return;
  const wanted = new Map(pairs.map((pair) => [pair.key, pair.value]));
  const windows = config.os === "windows";
  const env: string[] = [];
  for (const old of config.config?.Env ?? []) {
    const at = old.indexOf("=");
    if (at < 0) throw usageError(`invalid key value pair in config: ${old}`, "mutate");
    const key = old.slice(0, at);
    if (wanted.has(key)) {
      env.push(`${key}=${wanted.get(key)}`);
      wanted.delete(key);
    } else {
      env.push(old);
    }
  }
  for (const { key } of pairs) {
    if (!wanted.has(key)) continue;
    env.push(`${windows ? key.toUpperCase() : key}=${wanted.get(key)}`);
    wanted.delete(key);
  }
  config.config = { ...(config.config ?? {}), Env: env };
}

/**
 * `hoist mutate IMAGE`: changes labels, annotations, entrypoint, cmd, env, user, workdir,
 * exposed ports or platform (and appends layers), then pushes the result over the original,
 * to `-t`, or by digest to `--repo`; or writes it to a tarball with `-o`.
 */
export const mutate: Action = async (context, args, options) => {
  const source = args[0] as string;
  const annotations = (options.annotation as Record<string, string>) ?? {};
  const labels = (options.label as Record<string, string>) ?? {};
  const newRepo = typeof options.repo === "string" ? options.repo : "";
  let newRef = typeof options.tag === "string" ? options.tag : "";
  const client = await puller(context);

  if (Object.keys(annotations).length > 0) {
    const head = await client.head(reference(context, source));
    if (isIndex(head.mediaType)) {
      throw new CliError("mutating annotations on an index is not yet supported", {
        code: "HOIST_CLI_UNSUPPORTED",
        operation: "mutate",
        input: source,
      });
    }
  }
  if (newRepo && newRef)
    throw usageError("repository can't be set when a tag is specified", "mutate");

  let image: Image;
  try {
    image = await client.image(reference(context, source));
  } catch (error) {
    throw wrap(`pulling ${source}`, error);
  }
  const append = (options.append as string[] | undefined) ?? [];
  if (append.length > 0) {
    try {
      image = await appendFiles(image, append, { stdin: context.io.stdin, signal: context.signal });
    } catch (error) {
      throw wrap(`appending [${append.join(" ")}]`, error);
    }
  }
  const config = await image.configFile({ signal: context.signal });
  const container = { ...(config.config ?? {}) };
  checkValues(labels);
  container.Labels = { ...(container.Labels ?? {}), ...labels };
  checkValues(annotations);
  config.config = container;
  setEnv(config, (options.env as EnvPair[] | undefined) ?? []);
  const set = config.config as NonNullable<ConfigFile["config"]>;
  const entrypoint = options.entrypoint as string[] | undefined;
  if (entrypoint && entrypoint.length > 0) {
    set.Entrypoint = entrypoint;
    // As docker does: a new entrypoint drops the old command.
    delete set.Cmd;
  }
  const cmd = options.cmd as string[] | undefined;
  if (cmd && cmd.length > 0) set.Cmd = cmd;
  if (typeof options.user === "string" && options.user) set.User = options.user;
  if (typeof options.workdir === "string" && options.workdir) set.WorkingDir = options.workdir;
  const ports = options.exposedPorts as string[] | undefined;
  if (ports && ports.length > 0) set.ExposedPorts = Object.fromEntries(ports.map((p) => [p, {}]));
  if (typeof options.setPlatform === "string" && options.setPlatform) {
    const platform = parsePlatform(options.setPlatform);
    config.os = platform.os;
    config.architecture = platform.architecture;
    if (platform.variant) config.variant = platform.variant;
    else delete config.variant;
    if (platform["os.version"]) config["os.version"] = platform["os.version"];
    else delete config["os.version"];
  }
  image = setConfigFile(image, config);
  if (Object.keys(annotations).length > 0) image = setAnnotations(image, annotations);

  if (newRepo) newRef = newRepo;
  else if (!newRef) newRef = source;

  if (typeof options.output === "string" && options.output) {
    await writeOutputTarball(context, options.output, image, newRef);
    return;
  }
  const target = reference(context, newRef);
  const client2 = await pusher(context);
  const { view, onProgress } = await remoteProgress(context, "pushing");
  let digest: string;
  try {
    if (isDigest(target) || newRepo) {
      // Pushed by its new digest: layers first (a streamed one reveals its digest as it goes),
      // then the manifest under the digest it now has.
      for (const layer of await image.layers()) {
        await client2.writeLayer(target.repository, layer, { onProgress });
      }
      digest = String(await image.digest());
      await client2.write(target.repository.digest(digest), image, { onProgress });
    } else {
      digest = String((await client2.write(target, image, { onProgress })).digest);
    }
  } catch (error) {
    throw wrap(`pushing ${newRef}`, error);
  } finally {
    view.stop();
  }
  await context.out(`${digestReference(target, digest)}\n`);
};
