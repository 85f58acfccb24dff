import {
  type Authenticator,
  AuthnError,
  anonymous,
  basic,
  type Keychain,
  type Resource,
  resourceRegistryHost,
} from "@hoist/authn";

/** The registries GitHub serves packages from. */
export const GITHUB_REGISTRY_HOSTS: readonly string[] = ["ghcr.io", "docker.pkg.github.com"];

/** The username GitHub documents for tokens that are not tied to a user (app installation tokens). */
export const GITHUB_TOKEN_USERNAME = "x-access-token";

export interface GithubKeychainOptions {
  /** Where GITHUB_TOKEN, GH_TOKEN and GITHUB_ACTOR are read, at each resolve. Default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** A token to use instead of the environment's. */
  token?: string;
  /** The username to send. Default GITHUB_ACTOR, else "x-access-token". */
  username?: string;
  /** More hosts to serve, e.g. a GitHub Enterprise Server's "containers.github.example.com". */
  hosts?: readonly string[];
}

/**
 * A keychain for the GitHub Container Registry (ghcr.io, and the older docker.pkg.github.com)
 * from GITHUB_TOKEN (set in GitHub Actions) or GH_TOKEN (the gh CLI's variable), with the
 * actor as username. Answers anonymous for other hosts, or when no token is set.
 */
export function githubKeychain(options: GithubKeychainOptions = {}): Keychain {
  const hosts = new Set(
    [...GITHUB_REGISTRY_HOSTS, ...(options.hosts ?? [])].map((h) => h.toLowerCase()),
  );
  if (options.token !== undefined && options.token.trim() === "") {
    throw new AuthnError(
      "githubKeychain: the token option is empty; pass a token or leave it out to read GITHUB_TOKEN/GH_TOKEN.",
      {
        code: "HOIST_AUTHN_INVALID_ARGUMENT",
        operation: "create GitHub keychain",
      },
    );
  }
  return Object.freeze({
    name: "github",
    async resolve(resource: Resource): Promise<Authenticator> {
      if (!hosts.has(resourceRegistryHost(resource).toLowerCase())) return anonymous;
      const env = options.env ?? process.env;
      const token = options.token ?? (env.GITHUB_TOKEN || env.GH_TOKEN);
      if (!token) return anonymous;
      return basic(options.username ?? (env.GITHUB_ACTOR || GITHUB_TOKEN_USERNAME), token);
    },
  });
}
