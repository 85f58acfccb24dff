import { homedir as osHomedir } from "node:os";
import { join, resolve } from "node:path";
import type { ConfigFormat } from "./config-file.js";

/** Where to look, injectable so tests (and sandboxed callers) never touch the real home. */
export interface ConfigLocationOptions {
  /** Environment variables to read (DOCKER_CONFIG, REGISTRY_AUTH_FILE, XDG_*). Default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The home directory. Default os.homedir(). */
  homedir?: string;
}

/** One file the default keychain reads, in order. */
export interface CredentialFile {
  readonly path: string;
  readonly format: ConfigFormat;
  /** "docker": config.json; "containers": podman/skopeo auth.json; "legacy": ~/.dockercfg. */
  readonly kind: "docker" | "containers" | "legacy";
}

function env(options: ConfigLocationOptions): Readonly<Record<string, string | undefined>> {
  return options.env ?? process.env;
}

function home(options: ConfigLocationOptions): string {
  return options.homedir ?? osHomedir();
}

/**
 * docker's config.json: `$DOCKER_CONFIG/config.json` when DOCKER_CONFIG is set (it replaces
 * ~/.docker entirely, as in docker), else `~/.docker/config.json`. Login and logout write here.
 */
export function dockerConfigPath(options: ConfigLocationOptions = {}): string {
  const dir = env(options).DOCKER_CONFIG;
  return dir ? resolve(dir, "config.json") : join(home(options), ".docker", "config.json");
}

/**
 * Every credential file the default keychain consults, in order:
 * 1. docker's config.json ({@link dockerConfigPath});
 * 2. `$REGISTRY_AUTH_FILE` when set, else `$XDG_RUNTIME_DIR/containers/auth.json` (podman's
 *    rule: REGISTRY_AUTH_FILE replaces the runtime auth file);
 * 3. `${XDG_CONFIG_HOME:-~/.config}/containers/auth.json`;
 * 4. the legacy `~/.dockercfg`.
 * Duplicates (REGISTRY_AUTH_FILE pointing at config.json) are listed once.
 */
export function credentialFiles(options: ConfigLocationOptions = {}): CredentialFile[] {
  const vars = env(options);
  const files: CredentialFile[] = [
    { path: dockerConfigPath(options), format: "config", kind: "docker" },
  ];
  if (vars.REGISTRY_AUTH_FILE) {
    files.push({ path: resolve(vars.REGISTRY_AUTH_FILE), format: "config", kind: "containers" });
  } else if (vars.XDG_RUNTIME_DIR) {
    files.push({
      path: join(vars.XDG_RUNTIME_DIR, "containers", "auth.json"),
      format: "config",
      kind: "containers",
    });
  }
  const configHome = vars.XDG_CONFIG_HOME || join(home(options), ".config");
  files.push({
    path: join(configHome, "containers", "auth.json"),
    format: "config",
    kind: "containers",
  });
  files.push({ path: join(home(options), ".dockercfg"), format: "dockercfg", kind: "legacy" });
  const seen = new Set<string>();
  return files.filter((file) => !seen.has(file.path) && seen.add(file.path));
}
