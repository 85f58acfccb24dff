import {
  anonymous,
  defaultKeychain,
  type Keychain,
  type ResolveOptions,
  type Resource,
  resourceRegistryHost,
} from "@hoist/authn";
import { importOptional } from "./optional-import.js";

// The CLI's credentials: docker's and podman's config files first (what the user configured
// wins), then the cloud keychain whose registries the host belongs to. Cloud plugins are
// optional peer dependencies: they are imported only when a host of theirs is used and only if
// installed, so a plain `hoist digest` never loads an SDK and a missing plugin costs nothing.

/** A cloud plugin: which hosts may be its, and how to load its keychain. */
export interface CloudPlugin {
  readonly name: string;
  /** The npm package, imported on demand. */
  readonly packageName: string;
  /** A cheap test; the plugin's own keychain checks the host exactly. */
  readonly mayServe: (host: string) => boolean;
  readonly load: (env: Readonly<Record<string, string | undefined>>) => Promise<Keychain>;
}

function bareHost(host: string): string {
  return host.toLowerCase().replace(/:\d+$/, "");
}

export const CLOUD_PLUGINS: readonly CloudPlugin[] = [
  {
    name: "aws",
    packageName: "@hoist/authn-aws",
    mayServe: (host) => {
      const h = bareHost(host);
      return h === "public.ecr.aws" || /\.dkr[.-]ecr(-fips)?\./.test(h);
    },
    load: async () =>
      (await importOptional<typeof import("@hoist/authn-aws")>("@hoist/authn-aws")).ecrKeychain(),
  },
  {
    name: "google",
    packageName: "@hoist/authn-google",
    mayServe: (host) => {
      const h = bareHost(host);
      return h === "gcr.io" || h.endsWith(".gcr.io") || h.endsWith("-docker.pkg.dev");
    },
    load: async () =>
      (
        await importOptional<typeof import("@hoist/authn-google")>("@hoist/authn-google")
      ).googleKeychain(),
  },
  {
    name: "azure",
    packageName: "@hoist/authn-azure",
    mayServe: (host) => /\.azurecr\.(io|cn|us|de)$/.test(bareHost(host)),
    load: async () =>
      (
        await importOptional<typeof import("@hoist/authn-azure")>("@hoist/authn-azure")
      ).acrKeychain(),
  },
  {
    name: "github",
    packageName: "@hoist/authn-github",
    mayServe: (host) => ["ghcr.io", "docker.pkg.github.com"].includes(bareHost(host)),
    load: async (env) =>
      (
        await importOptional<typeof import("@hoist/authn-github")>("@hoist/authn-github")
      ).githubKeychain({ env }),
  },
];

function isMissingModule(error: unknown, packageName: string): boolean {
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : "";
  return (
    (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") &&
    message.includes(packageName)
  );
}

export interface CliKeychainOptions {
  env?: Readonly<Record<string, string | undefined>>;
  plugins?: readonly CloudPlugin[];
  /** Receives a line when a plugin is loaded or missing (shown with --verbose). */
  debug?: (line: string) => void;
}

/** The default keychain, then the matching cloud plugin when it is installed. */
export function cliKeychain(options: CliKeychainOptions = {}): Keychain {
  const files = defaultKeychain(options.env ? { env: options.env } : {});
  const plugins = options.plugins ?? CLOUD_PLUGINS;
  const loaded = new Map<string, Promise<Keychain | undefined>>();

  const pluginKeychain = (plugin: CloudPlugin): Promise<Keychain | undefined> => {
    let pending = loaded.get(plugin.name);
    if (!pending) {
      pending = plugin.load(options.env ?? process.env).then(
        (keychain) => {
          options.debug?.(`loaded the ${plugin.name} keychain from ${plugin.packageName}`);
          return keychain;
        },
        (error: unknown) => {
          if (isMissingModule(error, plugin.packageName)) {
            options.debug?.(
              `${plugin.packageName} is not installed; install it for ${plugin.name} credentials`,
            );
            return undefined;
          }
          throw error;
        },
      );
      loaded.set(plugin.name, pending);
    }
    return pending;
  };

  return Object.freeze({
    name: "hoist",
    async resolve(resource: Resource, call: ResolveOptions = {}) {
      const fromFiles = await files.resolve(resource, call);
      if (fromFiles !== anonymous) return fromFiles;
      const host = resourceRegistryHost(resource);
      for (const plugin of plugins) {
        if (!plugin.mayServe(host)) continue;
        const keychain = await pluginKeychain(plugin);
        if (!keychain) continue;
        const found = await keychain.resolve(resource, call);
        // The plugin has its own copy of @hoist/authn (this CLI bundles one), so its
        // `anonymous` is another object: ask for the credential instead of comparing identity.
        // Plugins cache their tokens, so the transport's later call costs nothing more.
        const credential = await found.authorization(call);
        if (credential.kind !== "anonymous") return found;
      }
      return anonymous;
    },
  });
}
