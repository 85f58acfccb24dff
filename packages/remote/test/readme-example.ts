import { basic } from "@hoist/authn";
import { randomImage } from "@hoist/oci";
import { createPuller, createPusher, type Progress, RemoteError } from "../src/index.js";

/** Pushes an image, copies it within the registry, reads it back and lists the tags. */
export async function example(options: {
  registry: string; // "127.0.0.1:5000"
  username: string;
  password: string;
}) {
  const auth = basic(options.username, options.password); // or { keychain: defaultKeychain() }
  const pusher = createPusher({ auth });
  const puller = createPuller({ auth });
  try {
    // Any Image from @hoist/oci can be written: built, mutated, or pulled from elsewhere.
    const image = randomImage({
      layers: 2,
      layerSize: 4096,
      seed: 1,
      platform: { os: "linux", architecture: "arm64" },
    });
    let last: Progress | undefined;
    const pushed = await pusher.write(`${options.registry}/demo/app:v1`, image, {
      onProgress: (progress) => {
        last = progress; // { complete, total } in bytes, for the whole push
      },
    });

    // Within one registry the layers are mounted, not uploaded again.
    await pusher.copy(`${options.registry}/demo/app:v1`, `${options.registry}/demo/copy:v1`);

    // Nothing but the manifest is fetched here; layers stream, verified, when read.
    const pulled = await puller.image(`${options.registry}/demo/copy:v1`);
    const config = await pulled.configFile();
    const tags = await puller.list(`${options.registry}/demo/app`);

    let missing: string | undefined;
    try {
      await puller.get(`${options.registry}/demo/app:nope`);
    } catch (error) {
      if (RemoteError.is(error)) missing = error.code; // "HOIST_REMOTE_NOT_FOUND"
    }
    return {
      digest: pushed.digest.toString(), // "sha256:…"
      same: (await pulled.digest()).equals(pushed.digest), // true
      architecture: config.architecture, // "arm64"
      tags, // ["v1"]
      missing,
      progress: last, // { complete: N, total: N }
    };
  } finally {
    await puller.close();
    await pusher.close();
  }
}
