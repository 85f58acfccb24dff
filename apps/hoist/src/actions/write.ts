import type { Action } from "../program.js";
import { pusher, reference } from "../remote-support.js";

/** `hoist delete IMAGE`: deletes the manifest a tag or digest names. */
export const deleteImage: Action = async (context, args) => {
  await (await pusher(context)).delete(reference(context, args[0] as string));
};

/** `hoist tag IMG TAG`: a new tag in the same repository; only the manifest is written. */
export const tag: Action = async (context, args) => {
  const [image, tag] = args as [string, string];
  await (await pusher(context)).tag(reference(context, image), tag);
};
