import { isIndex, validateImage, validateIndex } from "@hoist/oci";
import { imageFromTarball } from "@hoist/tarball";
import { describeError } from "../describe-error.js";
import { context as wrap } from "../errors.js";
import type { Action } from "../program.js";
import { puller, reference } from "../remote-support.js";
import { ExitStatus } from "../run.js";

/**
 * `hoist validate --tarball PATH | --remote IMAGE [--fast]`: recomputes every digest, size and
 * diffID (layer bytes skipped with --fast). Prints `PASS: <x>` or `FAIL: <x>: <why>` on stdout;
 * a failure also exits 1 with the reason on stderr.
 */
export const validate: Action = async (context, _args, options) => {
  const fast = options.fast === true;
  const check = { fast, signal: context.signal };
  const tarball = typeof options.tarball === "string" ? options.tarball : "";
  const remote = typeof options.remote === "string" ? options.remote : "";
  const fail = async (subject: string, error: unknown): Promise<never> => {
    await context.out(`FAIL: ${subject}: ${describeError(error)}\n`);
    context.io.stderr.write(`Error: ${describeError(error)}\n`);
    throw new ExitStatus(1);
  };
  if (tarball) {
    let image: Awaited<ReturnType<typeof imageFromTarball>>;
    try {
      image = await imageFromTarball(tarball, { signal: context.signal });
    } catch (error) {
      throw wrap(`failed to read image ${tarball}`, error);
    }
    try {
      await validateImage(image, check);
    } catch (error) {
      await fail(tarball, error);
    }
    await context.out(`PASS: ${tarball}\n`);
  }
  if (remote) {
    let descriptor: Awaited<ReturnType<Awaited<ReturnType<typeof puller>>["get"]>>;
    try {
      descriptor = await (await puller(context)).get(reference(context, remote));
    } catch (error) {
      throw wrap(`failed to read image ${remote}`, error);
    }
    const platform = await context.platform();
    try {
      if (isIndex(descriptor.descriptor.mediaType) && !platform) {
        await validateIndex(await descriptor.imageIndex(), check);
      } else {
        await validateImage(await descriptor.image(platform ? { platform } : {}), check);
      }
    } catch (error) {
      await fail(remote, error);
    }
    await context.out(`PASS: ${remote}\n`);
  }
};
