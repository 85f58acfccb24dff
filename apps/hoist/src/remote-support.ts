import { type Digest, parseReference, type Reference, Repository, type Tag } from "@hoist/name";
import {
  createPuller,
  createPusher,
  type Progress,
  type Puller,
  type Pusher,
  type RemoteOptions,
} from "@hoist/remote";
import type { Context } from "./context.js";
import { CliError } from "./errors.js";
import { createProgress, type ProgressView } from "./progress.js";

// The global flags as @hoist/remote options, and one Puller and Pusher per command sharing the
// command's transport and keychain (one handshake per registry and scope for the whole run).

/** The OCI annotations that name an image's base (append sets them, rebase reads them). */
export const BASE_DIGEST = "org.opencontainers.image.base.digest";
export const BASE_NAME = "org.opencontainers.image.base.name";

export async function remoteOptions(context: Context): Promise<RemoteOptions> {
  const platform = await context.platform();
  return {
    keychain: await context.keychain(),
    transport: await context.transport(),
    signal: context.signal,
    allowNondistributableArtifacts: context.flags.allowNondistributableArtifacts,
    ...(platform ? { platform } : {}),
  };
}

const pullers = new WeakMap<Context, Promise<Puller>>();
const pushers = new WeakMap<Context, Promise<Pusher>>();

export function puller(context: Context): Promise<Puller> {
  let found = pullers.get(context);
  if (!found) {
    found = remoteOptions(context).then((options) => createPuller(options));
    pullers.set(context, found);
  }
  return found;
}

export function pusher(context: Context): Promise<Pusher> {
  let found = pushers.get(context);
  if (!found) {
    found = remoteOptions(context).then((options) => createPusher(options));
    pushers.set(context, found);
  }
  return found;
}

export function reference(context: Context, text: string): Reference {
  return parseReference(text, context.nameOptions);
}

export function repository(context: Context, text: string): Repository {
  return Repository.parse(text, context.nameOptions);
}

export function isDigest(ref: Reference): ref is Digest {
  return ref.kind === "digest";
}

export function isTag(ref: Reference): ref is Tag {
  return ref.kind === "tag";
}

/** `repo@sha256:…`, fully qualified: what crane prints after a push. */
export function digestReference(ref: Reference | Repository, digest: string): string {
  const repo = ref instanceof Repository ? ref : ref.repository;
  return repo.digest(digest).toString();
}

/** crane's `--jobs` rule: values below 1 mean the default, 4. */
export function jobsOf(value: unknown): number {
  return typeof value === "number" && value > 0 ? value : 4;
}

/** Progress bars fed by @hoist/remote's `onProgress`; silent when stderr is not a terminal. */
export async function remoteProgress(
  context: Context,
  label: string,
): Promise<{ view: ProgressView; onProgress: (progress: Progress) => void }> {
  const view = await createProgress(context, label);
  return { view, onProgress: (progress) => view.update(progress) };
}

export function notFound(message: string, operation: string, input?: string): CliError {
  return new CliError(message, {
    code: "HOIST_CLI_NOT_FOUND",
    operation,
    ...(input !== undefined ? { input } : {}),
  });
}
