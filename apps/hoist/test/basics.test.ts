import { execFile } from "node:child_process";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { findBinary } from "@hoist/harness";
import { describe, expect, it } from "vitest";
import { expectOneLineError, isolatedEnv, runCli, useTempDir } from "./helpers.js";

const exec = promisify(execFile);
const temp = useTempDir();
const env = () => isolatedEnv(temp());

describe("hoist version and help", () => {
  it("prints the package version and a newline", async () => {
    const result = await runCli(["version"], { env: env() });
    expect(result.status).toBe(0);
    expect(result.out).toBe("0.1.0\n");
    expect(result.stderr).toBe("");
  });

  it("prints usage on stdout for no command, --help and help", async () => {
    for (const args of [[], ["--help"], ["help"], ["digest", "--help"]]) {
      const result = await runCli(args, { env: env() });
      expect(result.status, args.join(" ")).toBe(0);
      expect(result.out).toContain("Usage: hoist");
    }
    const digest = await runCli(["digest", "--help"], { env: env() });
    expect(digest.out).toContain("--full-ref");
    expect(digest.out).toContain("--tarball <string>");
    expect(digest.out).toContain("Global Flags:");
  });

  it("lists every crane command", async () => {
    const result = await runCli(["--help"], { env: env() });
    for (const command of [
      "append",
      "auth",
      "blob",
      "catalog",
      "config",
      "copy|cp",
      "delete",
      "digest",
      "export",
      "flatten",
      "index",
      "ls",
      "manifest",
      "mutate",
      "pull",
      "push",
      "rebase",
      "registry",
      "tag",
      "validate",
      "version",
      "completion",
    ]) {
      expect(result.out).toMatch(new RegExp(`\\n  ${command.replace("|", "\\|")} `));
    }
  });
});

describe("the executable's code cache", () => {
  it("lives under the user's cache directory and outlives a broken file", async () => {
    const home = join(temp(), "cache-home");
    const dir = join(home, ".cache", "hoist", "compile-cache");
    const first = await runCli(["version"], { env: isolatedEnv(home) });
    expect(first.out).toBe("0.1.0\n");
    const files = await readdir(dir);
    expect(files).toEqual([expect.stringMatching(/^cli\.cjs-[0-9a-f]{32}-version\.v8$/)]);
    const cache = join(dir, files[0] as string);
    await writeFile(cache, "not a code cache");
    const second = await runCli(["version"], { env: isolatedEnv(home) });
    expect([second.status, second.out, second.stderr]).toEqual([0, "0.1.0\n", ""]);
    expect(await readFile(cache, "utf8")).not.toBe("not a code cache");
    // Another command has a cache of its own, named after it (options before it do not count).
    await runCli(["--verbose", "digest", "--help"], { env: isolatedEnv(home) });
    expect((await readdir(dir)).sort()).toEqual([expect.stringMatching(/-digest\.v8$/), files[0]]);
  });

  it("follows XDG_CACHE_HOME and is off with NODE_DISABLE_COMPILE_CACHE", async () => {
    const home = join(temp(), "xdg-home");
    const xdg = join(temp(), "xdg-cache");
    await runCli(["version"], { env: isolatedEnv(home, { XDG_CACHE_HOME: xdg }) });
    expect(await readdir(join(xdg, "hoist", "compile-cache"))).toHaveLength(1);
    const off = join(temp(), "off-home");
    const result = await runCli(["version"], {
      env: isolatedEnv(off, { NODE_DISABLE_COMPILE_CACHE: "1" }),
    });
    expect(result.out).toBe("0.1.0\n");
    await expect(stat(join(off, ".cache"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("usage errors: one line on stderr, status 1", () => {
  it.each([
    [["frobnicate"], /unknown command 'frobnicate'/],
    [["digest", "--frob"], /unknown option '--frob'/],
    [["manifest"], /missing required argument 'IMAGE'/],
    [["tag", "a", "b", "c"], /too many arguments/],
    [["copy", "-j", "many", "a", "b"], /not an integer/],
    [["append", "-f", "x.tar"], /required option '-t, --new_tag <string>' not specified/],
    [["append", "-t", "x", "-f", "l.tar", "-b", "base", "--oci-empty-base"], /cannot be used with/],
    [["mutate", "-l", "novalue", "img"], /novalue must be formatted as key=value/],
    [["completion", "--verbose=maybe", "bash"], /invalid argument "maybe" for "--verbose" flag/],
    [["completion", "tcsh"], /unsupported shell "tcsh": choose bash, zsh or fish/],
    [
      ["--platform", "linux/amd64/v8/x", "version"],
      /invalid argument "linux\/amd64\/v8\/x" for "--platform" flag/,
    ],
  ])("%j", async (args, message) => {
    const result = await runCli(args, { env: env() });
    expect(expectOneLineError(result)).toMatch(message);
  });

  it("accepts pflag's --flag=true and --flag=false", async () => {
    const on = await runCli(["completion", "--verbose=true", "bash"], { env: env() });
    expect(on.status).toBe(0);
    const off = await runCli(["completion", "--insecure=false", "bash"], { env: env() });
    expect(off.status).toBe(0);
    expect(off.out).toContain("complete -o default -F _hoist hoist");
  });
});

describe("shell completion", () => {
  it("bash: completes commands, subcommands and flags", async () => {
    const script = join(temp(), "hoist.bash");
    await writeFile(script, (await runCli(["completion", "bash"], { env: env() })).stdout);
    const complete = async (words: string[]) => {
      const program = [
        `source ${JSON.stringify(script)}`,
        `COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(" ")})`,
        `COMP_CWORD=${words.length - 1}`,
        "_hoist",
        `printf "%s\\n" "\${COMPREPLY[@]}"`,
      ].join("\n");
      const { stdout } = await exec("bash", ["-c", program]);
      return stdout.trim().split("\n").filter(Boolean);
    };
    expect(await complete(["hoist", "di"])).toEqual(["digest"]);
    expect(await complete(["hoist", "index", ""])).toEqual(["append", "filter", "list"]);
    expect(await complete(["hoist", "auth", "lo"])).toEqual(["login", "logout"]);
    expect(await complete(["hoist", "--insecure", "ls", "--f"])).toEqual(["--full-ref"]);
    expect(await complete(["hoist", "index", "filter", "--pl"])).toEqual(["--platform"]);
    expect(await complete(["hoist", "copy", "--no"])).toEqual(["--no-clobber"]);
  });

  it("zsh: the script parses and defines the completion function", async () => {
    const zsh = findBinary("zsh", { debianPackage: "zsh" });
    const script = join(temp(), "_hoist");
    await writeFile(script, (await runCli(["completion", "zsh"], { env: env() })).stdout);
    await exec(zsh, ["-n", script]);
    const { stdout } = await exec(zsh, [
      "-c",
      `compdef() { print -r -- "compdef $*"; }; source ${JSON.stringify(script)}; whence -w _hoist`,
    ]);
    expect(stdout).toContain("compdef _hoist hoist");
    expect(stdout).toContain("_hoist: function");
  });

  it("fish: completes commands, subcommands and flags", async () => {
    const fish = findBinary("fish", { debianPackage: "fish" });
    const script = join(temp(), "hoist.fish");
    await writeFile(script, (await runCli(["completion", "fish"], { env: env() })).stdout);
    const complete = async (line: string) => {
      const { stdout } = await exec(fish, [
        "--no-config",
        "-c",
        `source ${JSON.stringify(script)}; complete -C ${JSON.stringify(line)}`,
      ]);
      return stdout
        .trim()
        .split("\n")
        .map((l) => l.split("\t")[0]);
    };
    expect(await complete("hoist di")).toEqual(["digest"]);
    expect(await complete("hoist index ")).toEqual(["append", "filter", "list"]);
    expect(await complete("hoist ls --full")).toEqual(["--full-ref"]);
  });
});
