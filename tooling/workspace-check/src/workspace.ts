import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

export interface PackageJson {
  name: string;
  version: string;
  private?: boolean;
  description?: string;
  license?: string;
  type?: string;
  sideEffects?: boolean;
  exports?: Record<string, unknown>;
  types?: string;
  files?: string[];
  engines?: Record<string, string>;
  bin?: Record<string, string> | string;
  repository?: { directory?: string };
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  scripts?: Record<string, string>;
}

export interface WorkspacePackage {
  /** Directory relative to the repository root, e.g. "packages/name". */
  dir: string;
  /** Absolute directory. */
  path: string;
  json: PackageJson;
}

const WORKSPACE_GLOBS = ["packages", "apps", "tooling"];

/** Every workspace package, in a stable order. */
export function workspacePackages(): WorkspacePackage[] {
  const found: WorkspacePackage[] = [];
  for (const parent of WORKSPACE_GLOBS) {
    const parentPath = join(ROOT, parent);
    if (!existsSync(parentPath)) continue;
    for (const entry of readdirSync(parentPath).sort()) {
      const path = join(parentPath, entry);
      const manifest = join(path, "package.json");
      if (!statSync(path).isDirectory() || !existsSync(manifest)) continue;
      found.push({
        dir: `${parent}/${entry}`,
        path,
        json: JSON.parse(readFileSync(manifest, "utf8")),
      });
    }
  }
  return found;
}

/**
 * An app published as a bundle (apps/hoist): its runtime imports are compiled into its dist,
 * so they are devDependencies, and only what it imports at run time stays external (optional
 * peer dependencies, such as the cloud keychain plugins).
 */
export function isBundledApp(pkg: WorkspacePackage): boolean {
  return (
    pkg.dir.startsWith("apps/") &&
    pkg.json.bin !== undefined &&
    existsSync(join(pkg.path, "build.mjs"))
  );
}

/** The packages that are published to npm. */
export function publicPackages(): WorkspacePackage[] {
  return workspacePackages().filter((pkg) => !pkg.json.private);
}

export function rootPackageJson(): PackageJson {
  return JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
}

/** All .ts files under a directory, recursively, skipping build output and dependencies. */
export function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "dist") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) files.push(path);
  }
  return files.sort();
}

const IMPORT_PATTERNS = [
  /\b(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?["']([^"']+)["']/g,
  /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
];

/** The module specifiers a TypeScript file imports or re-exports. */
export function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
  const specifiers = new Set<string>();
  for (const pattern of IMPORT_PATTERNS) {
    for (const match of text.matchAll(pattern)) if (match[1]) specifiers.add(match[1]);
  }
  return [...specifiers];
}

/** "@scope/name/sub" → "@scope/name"; "name/sub" → "name". */
export function packageNameOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

export function isTestFile(file: string, pkg: WorkspacePackage): boolean {
  const rel = relative(pkg.path, file);
  return rel.endsWith(".test.ts") || rel.startsWith("test/") || rel.includes("/test/");
}
