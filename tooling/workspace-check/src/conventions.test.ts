import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { publicPackages, ROOT, rootPackageJson, workspacePackages } from "./workspace.js";

describe("the workspace", () => {
  it("pins pnpm and the Node versions it supports", () => {
    const root = rootPackageJson();
    expect((root as { packageManager?: string }).packageManager).toBe("pnpm@12.4.2");
    expect(root.engines?.node).toBe(">=20.18");
  });

  it("lists every published package in this check's devDependencies, so turbo builds them first", () => {
    const own = workspacePackages().find((pkg) => pkg.json.name === "@hoist/workspace-check");
    const listed = Object.keys(own?.json.devDependencies ?? {}).sort();
    expect(listed).toEqual(
      publicPackages()
        .map((pkg) => pkg.json.name)
        .sort(),
    );
  });
});

describe.each(publicPackages().map((pkg) => [pkg.json.name, pkg] as const))("%s", (_, pkg) => {
  const json = pkg.json;

  it("is an ESM package with types, an exports map and no side effects", () => {
    expect(json.type).toBe("module");
    expect(json.sideEffects).toBe(false);
    const root = json.exports?.["."] as Record<string, string> | undefined;
    expect(Object.keys(root ?? {})).toEqual(["types", "import"]);
    expect(root?.types).toBe("./dist/index.d.ts");
    expect(root?.import).toBe("./dist/index.js");
    expect(json.exports?.["./package.json"]).toBe("./package.json");
    expect(json.files).toContain("dist");
  });

  it("declares its engines, license, description and repository directory", () => {
    expect(json.engines?.node).toBe(">=20.18");
    expect(json.license).toBe("Apache-2.0");
    expect(json.description?.length ?? 0).toBeGreaterThan(20);
    expect(json.repository?.directory).toBe(pkg.dir);
    expect(json.version).toMatch(/^\d+\.\d+\.\d+(-[\w.]+)?$/);
  });

  it("has one public entry and a README with a runnable example", () => {
    expect(existsSync(join(pkg.path, "src/index.ts"))).toBe(true);
    const readme = join(pkg.path, "README.md");
    expect(existsSync(readme), `${pkg.dir}/README.md is missing`).toBe(true);
    const text = readFileSync(readme, "utf8");
    expect(text).toMatch(new RegExp(`^# ${json.name.replace("/", "\\/")}`, "m"));
    expect(text, "the README needs a ```ts example").toMatch(/```ts\n[\s\S]*?import[\s\S]*?```/);
  });

  it("uses the shared build and test scripts", () => {
    expect(json.scripts?.build).toContain("tsc -p tsconfig.build.json");
    expect(json.scripts?.test).toBe("vitest run");
    expect(json.scripts?.["check:package"]).toContain("publint");
    const tsconfig = JSON.parse(readFileSync(join(pkg.path, "tsconfig.json"), "utf8"));
    expect(tsconfig.extends).toBe("../../tsconfig.base.json");
  });
});

it("the root README keeps the two set-up commands", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  expect(readme).toContain(
    "npx --yes pnpm@12.4.2 install --frozen-lockfile && npx --yes pnpm@12.4.2 demo",
  );
  expect(readme).toContain(
    "npx --yes pnpm@12.4.2 install --frozen-lockfile && npx --yes pnpm@12.4.2 test",
  );
  const ci = readFileSync(join(ROOT, ".ci/run"), "utf8");
  expect(ci).toContain(
    "npx --yes pnpm@12.4.2 install --frozen-lockfile && npx --yes pnpm@12.4.2 test",
  );
});
