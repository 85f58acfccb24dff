import { builtinModules } from "node:module";
import { dirname, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  importsOf,
  isBundledApp,
  isTestFile,
  packageNameOf,
  rootPackageJson,
  sourceFiles,
  type WorkspacePackage,
  workspacePackages,
} from "./workspace.js";

/**
 * Which @hoist packages each published package may import (DESIGN.md's dependency
 * direction, transitively closed). Apps and tooling may import any published package.
 */
const ALLOWED: Record<string, readonly string[]> = {
  "@hoist/name": [],
  "@hoist/oci": ["@hoist/name"],
  "@hoist/authn": ["@hoist/name"],
  "@hoist/authn-aws": ["@hoist/authn", "@hoist/name"],
  "@hoist/authn-google": ["@hoist/authn", "@hoist/name"],
  "@hoist/authn-azure": ["@hoist/authn", "@hoist/name"],
  "@hoist/authn-github": ["@hoist/authn", "@hoist/name"],
  "@hoist/authn-kubernetes": ["@hoist/authn", "@hoist/name"],
  "@hoist/transport": ["@hoist/name", "@hoist/oci", "@hoist/authn"],
  "@hoist/remote": ["@hoist/name", "@hoist/oci", "@hoist/authn", "@hoist/transport"],
  "@hoist/layout": [
    "@hoist/name",
    "@hoist/oci",
    "@hoist/authn",
    "@hoist/transport",
    "@hoist/remote",
  ],
  "@hoist/tarball": [
    "@hoist/name",
    "@hoist/oci",
    "@hoist/authn",
    "@hoist/transport",
    "@hoist/remote",
  ],
  "@hoist/registry": ["@hoist/name", "@hoist/oci"],
};

const BUILTINS = new Set(builtinModules);
const packages = workspacePackages();
const rootDeps = new Set(Object.keys(rootPackageJson().devDependencies ?? {}));

function runtimeDeclared(pkg: WorkspacePackage): Set<string> {
  const { dependencies = {}, peerDependencies = {}, optionalDependencies = {} } = pkg.json;
  return new Set([
    ...Object.keys(dependencies),
    ...Object.keys(peerDependencies),
    ...Object.keys(optionalDependencies),
  ]);
}

interface Finding {
  file: string;
  specifier: string;
  problem: string;
}

function check(pkg: WorkspacePackage): { findings: Finding[]; used: Set<string> } {
  const findings: Finding[] = [];
  const used = new Set<string>();
  const devDeclared = new Set(Object.keys(pkg.json.devDependencies ?? {}));
  // A bundled app compiles its imports into its dist: devDependencies are its runtime too.
  const declared = isBundledApp(pkg)
    ? new Set([...runtimeDeclared(pkg), ...devDeclared])
    : runtimeDeclared(pkg);
  const allowed = ALLOWED[pkg.json.name];
  for (const file of [
    ...sourceFiles(resolve(pkg.path, "src")),
    ...sourceFiles(resolve(pkg.path, "test")),
  ]) {
    const test = isTestFile(file, pkg);
    const where = relative(pkg.path, file);
    for (const specifier of importsOf(file)) {
      if (specifier.startsWith(".")) {
        const target = resolve(dirname(file), specifier);
        if (relative(pkg.path, target).startsWith("..")) {
          findings.push({ file: where, specifier, problem: "relative import leaves the package" });
        }
        continue;
      }
      if (specifier.startsWith("node:")) continue;
      if (BUILTINS.has(specifier)) {
        findings.push({ file: where, specifier, problem: 'use the "node:" prefix for built-ins' });
        continue;
      }
      const name = packageNameOf(specifier);
      if (name === pkg.json.name) {
        findings.push({ file: where, specifier, problem: "imports itself by package name" });
        continue;
      }
      if (!test) used.add(name);
      if (name.startsWith("@hoist/") && allowed && !allowed.includes(name) && !test) {
        findings.push({
          file: where,
          specifier,
          problem: `${pkg.json.name} may not depend on ${name}`,
        });
      }
      const ok = declared.has(name) || (test && (devDeclared.has(name) || rootDeps.has(name)));
      if (!ok)
        findings.push({
          file: where,
          specifier,
          problem: `${name} is not declared in package.json`,
        });
    }
  }
  return { findings, used };
}

describe.each(packages.map((pkg) => [pkg.json.name, pkg] as const))("%s", (_, pkg) => {
  it("imports only declared packages, other packages by name, in the allowed direction", () => {
    expect(check(pkg).findings).toEqual([]);
  });
});

describe.each(
  packages.filter((pkg) => !pkg.json.private).map((pkg) => [pkg.json.name, pkg] as const),
)("published %s", (_, pkg) => {
  it("declares no runtime dependency it does not import", () => {
    const { used } = check(pkg);
    const unused = [...runtimeDeclared(pkg)].filter(
      (name) => !used.has(name) && !name.startsWith("@types/"),
    );
    expect(unused).toEqual([]);
  });

  it("depends on other hoist packages through workspace ranges", () => {
    for (const [name, range] of Object.entries(pkg.json.dependencies ?? {})) {
      if (name.startsWith("@hoist/")) expect(range, name).toBe("workspace:^");
    }
  });
});

describe.each(packages.filter(isBundledApp).map((pkg) => [pkg.json.name, pkg] as const))(
  "bundled %s",
  (_, pkg) => {
    it("has no runtime dependencies, only optional peers left external", () => {
      expect(pkg.json.dependencies ?? {}).toEqual({});
      for (const name of Object.keys(pkg.json.peerDependencies ?? {})) {
        expect(pkg.json.peerDependenciesMeta?.[name]?.optional, name).toBe(true);
      }
    });
  },
);
