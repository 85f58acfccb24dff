import type { Reference, Repository } from "@hoist/name";
import type { Progress } from "@hoist/remote";
import type { Context } from "../context.js";
import { CliError, context as wrap } from "../errors.js";
import type { Action } from "../program.js";
import { createProgress } from "../progress.js";
import { isTag, jobsOf, puller, pusher, reference, repository } from "../remote-support.js";

/** Whether a registry answer means "there is nothing there (that you may see)". */
function absent(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === "HOIST_REMOTE_NOT_FOUND" || code === "HOIST_REMOTE_DENIED";
}

/** crane's no-clobber check: a destination tag that exists stops the copy. */
async function refuseClobber(context: Context, destination: Reference): Promise<void> {
  if (!isTag(destination)) return;
  let digest: string;
  try {
    digest = String((await (await puller(context)).head(destination)).digest);
  } catch (error) {
    if (absent(error)) return;
    throw error;
  }
  throw new CliError(`refusing to clobber existing tag ${destination.toString()}@${digest}`, {
    code: "HOIST_CLI_CLOBBER",
    operation: "copy",
    input: destination.toString(),
  });
}

async function copyOne(
  context: Context,
  source: Reference,
  destination: Reference,
  options: { jobs: number; noClobber: boolean; onProgress: (progress: Progress) => void },
): Promise<void> {
  if (options.noClobber) await refuseClobber(context, destination);
  context.log(`Copying from ${source.toString()} to ${destination.toString()}`);
  await (await pusher(context)).copy(source, destination, {
    jobs: options.jobs,
    onProgress: options.onProgress,
  });
}

async function listOrEmpty(context: Context, repo: Repository): Promise<string[]> {
  try {
    return await (await puller(context)).list(repo);
  } catch (error) {
    if (absent(error)) return [];
    throw error;
  }
}

/** `hoist copy SRC DST` (alias `cp`), `-a` for every tag, `-n` to keep existing tags. */
export const copy: Action = async (context, args, options) => {
  const jobs = jobsOf(options.jobs);
  // commander turns crane's --no-clobber into clobber=false.
  const noClobber = options.clobber === false;
  const [src, dst] = args as [string, string];
  const view = await createProgress(context, "copying");
  try {
    if (!options.allTags) {
      await copyOne(context, reference(context, src), reference(context, dst), {
        jobs,
        noClobber,
        onProgress: (progress) => view.update(progress),
      });
      return;
    }
    await copyRepository(context, src, dst, { jobs, noClobber, view });
  } finally {
    view.stop();
  }
};

async function copyRepository(
  context: Context,
  src: string,
  dst: string,
  options: { jobs: number; noClobber: boolean; view: { update(p: Progress): void } },
): Promise<void> {
  const { jobs, noClobber } = options;
  // One bar for every tag: the sum of each copy's progress.
  const perTag = new Map<string, Progress>();
  const report = (tag: string) => (progress: Progress) => {
    perTag.set(tag, progress);
    let complete = 0;
    let total = 0;
    for (const value of perTag.values()) {
      complete += value.complete;
      total += value.total;
    }
    options.view.update({ complete, total });
  };
  const from = repository(context, src);
  const to = repository(context, dst);
  let tags: string[];
  try {
    tags = await (await puller(context)).list(from);
  } catch (error) {
    throw wrap(`reading tags for ${from.name}`, error);
  }
  if (noClobber) {
    const existing = new Set(await listOrEmpty(context, to));
    tags = tags.filter((tag) => {
      if (!existing.has(tag)) return true;
      context.log(`Existing tag ${to.tag(tag).toString()}, skipping`);
      return false;
    });
  }
  // Tags are copied `jobs` at a time; each copy's blobs share the same pusher and its knowledge.
  let next = 0;
  const worker = async () => {
    while (next < tags.length) {
      const tag = tags[next++] as string;
      await copyOne(context, from.tag(tag), to.tag(tag), {
        jobs,
        noClobber: false,
        onProgress: report(tag),
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, tags.length) }, worker));
}
