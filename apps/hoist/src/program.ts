import { Command, Option } from "commander";
import type { Context, GlobalFlags } from "./context.js";
import {
  collectEnv,
  collectKeyValues,
  collectList,
  collectRepeated,
  parseInteger,
} from "./flags.js";

// The command tree: crane's commands, arguments and flags, one for one. This module stays light
// (commander only): each command's work lives in ./actions and is imported when the command
// runs, so `hoist version` starts without loading the registry client.

/** What a command does once its flags are parsed. */
export type Action = (
  context: Context,
  args: string[],
  options: Record<string, unknown>,
) => Promise<void>;

/** Creates the Context for a command (run.ts owns streams, signals and error output). */
export type Runner = (
  flags: GlobalFlags,
  work: (context: Context) => Promise<void>,
) => Promise<void>;

const GLOBAL_HEADING = "Global Flags:";

function globalOptions(options: { platform: boolean }): Option[] {
  const list = [
    new Option(
      "--allow-nondistributable-artifacts",
      "Push non-distributable (foreign) layers too",
    ).helpGroup(GLOBAL_HEADING),
    new Option(
      "--insecure",
      "Allow plain http and registries whose TLS certificate does not verify",
    ).helpGroup(GLOBAL_HEADING),
    new Option("-v, --verbose", "Log requests and other debug output to stderr").helpGroup(
      GLOBAL_HEADING,
    ),
  ];
  if (options.platform) {
    list.push(
      new Option(
        "--platform <platform>",
        'Platform to pick from an index, as os/arch[/variant][:osversion] (e.g. linux/amd64), or "all"',
      )
        .default("all")
        .helpGroup(GLOBAL_HEADING),
    );
  }
  return list;
}

function addGlobals(command: Command, options = { platform: true }): Command {
  for (const option of globalOptions(options)) command.addOption(option);
  return command;
}

/** Global flags may come before or after the subcommand, as with cobra's persistent flags. */
function collectGlobals(command: Command): GlobalFlags {
  const chain: Command[] = [];
  for (let current: Command | null = command; current; current = current.parent) {
    chain.push(current);
  }
  const pick = <T>(key: string): T | undefined => {
    for (const entry of chain) {
      // A command's own --platform (index filter) is not the global one.
      if (key === "platform" && entry.name() === "filter" && entry.parent?.name() === "index") {
        continue;
      }
      const source = entry.getOptionValueSource(key);
      if (source !== undefined && source !== "default") return entry.getOptionValue(key) as T;
    }
    return undefined;
  };
  const platform = pick<string>("platform");
  return {
    verbose: pick<boolean>("verbose") === true,
    insecure: pick<boolean>("insecure") === true,
    allowNondistributableArtifacts: pick<boolean>("allowNondistributableArtifacts") === true,
    platform: platform === undefined || platform === "all" ? undefined : platform,
  };
}

function bind(runner: Runner, load: () => Promise<Action>) {
  return async (...params: unknown[]) => {
    const command = params[params.length - 1] as Command;
    const options = params[params.length - 2] as Record<string, unknown>;
    const args = params
      .slice(0, -2)
      .flatMap((value) =>
        Array.isArray(value) ? (value as string[]) : value === undefined ? [] : [value as string],
      );
    await runner(collectGlobals(command), async (context) => {
      const action = await load();
      await action(context, args, options);
    });
  };
}

/** A command with subcommands: usage when called alone, an error for an unknown subcommand. */
function helpOrUnknown(command: Command): void {
  const [first] = command.args;
  if (first !== undefined) {
    const known = command.commands.flatMap((sub) => [sub.name(), ...sub.aliases()]);
    const near = known.find((name) => name.startsWith(first.slice(0, 2)));
    command.error(
      `unknown command '${first}' for "${fullName(command)}"${near ? ` (did you mean '${near}'?)` : ""}`,
      { code: "commander.unknownCommand" },
    );
  }
  command.help();
}

function fullName(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current; current = current.parent) {
    names.unshift(current.name());
  }
  return names.join(" ");
}

interface Spec {
  name: string;
  summary: string;
  usage?: string;
  description?: string;
  examples?: string;
  aliases?: string[];
  args?: string[];
  options?: Option[];
  platform?: boolean;
  load: () => Promise<Action>;
}

function leaf(parent: Command, runner: Runner, spec: Spec): Command {
  const command = new Command(spec.name).summary(spec.summary);
  command.description(spec.description ?? spec.summary);
  if (spec.usage) command.usage(spec.usage);
  for (const alias of spec.aliases ?? []) command.alias(alias);
  for (const arg of spec.args ?? []) command.argument(arg);
  for (const option of spec.options ?? []) command.addOption(option);
  addGlobals(command, { platform: spec.platform !== false });
  if (spec.examples) command.addHelpText("after", `\nExamples:\n${spec.examples}`);
  command.action(bind(runner, spec.load));
  parent.addCommand(command);
  return command;
}

function group(parent: Command, name: string, summary: string): Command {
  const command = new Command(name).summary(summary).description(summary);
  command
    .enablePositionalOptions()
    .allowExcessArguments()
    .helpCommand("help [command]", "Help about any command");
  addGlobals(command);
  command.action(() => helpOrUnknown(command));
  parent.addCommand(command);
  return command;
}

const list = (flags: string, description: string) =>
  new Option(flags, description).argParser(collectList);

/** Builds the `hoist` program. `runner` gives each command its Context. */
export function buildProgram(runner: Runner): Command {
  const program = new Command("hoist")
    .summary("hoist is a tool for managing container images")
    .description(
      "hoist reads and writes images in OCI and Docker registries. Its commands, arguments and flags are crane's.",
    )
    .usage("[command] [flags]")
    .enablePositionalOptions()
    .allowExcessArguments()
    .helpCommand("help [command]", "Help about any command")
    .showSuggestionAfterError(true);
  addGlobals(program);
  program.action(() => helpOrUnknown(program));

  // --- credentials --------------------------------------------------------------------------
  const auth = group(program, "auth", "Log in or access credentials");
  leaf(auth, runner, {
    name: "get",
    summary: "Implements a credential helper",
    description:
      "Prints the credentials hoist would use for a registry, in the docker credential-helper format. The registry comes from the argument or, without one, from stdin.",
    args: ["[REGISTRY_ADDR]"],
    examples:
      '  # Read configured credentials for reg.example.com\n  $ echo "reg.example.com" | hoist auth get\n  $ hoist auth get reg.example.com',
    load: async () => (await import("./actions/auth.js")).authGet,
  });
  leaf(auth, runner, {
    name: "login",
    summary: "Log in to a registry",
    usage: "[OPTIONS] [SERVER]",
    args: ["<SERVER>"],
    options: [
      new Option("-u, --username <string>", "Username"),
      new Option("-p, --password <string>", "Password"),
      new Option("--password-stdin", "Take the password from stdin"),
    ],
    examples:
      "  # Log in to reg.example.com\n  hoist auth login reg.example.com -u USER -p PASSWORD",
    load: async () => (await import("./actions/auth.js")).authLogin,
  });
  leaf(auth, runner, {
    name: "logout",
    summary: "Log out of a registry",
    usage: "[SERVER]",
    args: ["<SERVER>"],
    examples: "  # Log out of reg.example.com\n  hoist auth logout reg.example.com",
    load: async () => (await import("./actions/auth.js")).authLogout,
  });
  leaf(auth, runner, {
    name: "token",
    summary: "Retrieves a token for a remote repo",
    args: ["<REPO>"],
    options: [
      new Option("-H, --header", "Output in header format"),
      list("-m, --mount <strings>", "Scopes to mount from").default([], "[]"),
      new Option("--push", "Request push scopes"),
    ],
    examples:
      '  # A header for curl, with push access to ubuntu and pull access to debian\n  $ curl -H "$(hoist auth token -H --push --mount debian ubuntu)" ...',
    load: async () => (await import("./actions/auth.js")).authToken,
  });

  // --- reading ------------------------------------------------------------------------------
  leaf(program, runner, {
    name: "blob",
    summary: "Read a blob from the registry",
    args: ["<BLOB>"],
    examples: "  hoist blob ubuntu@sha256:4c1d…c0e5 > blob.tar.gz",
    load: async () => (await import("./actions/read.js")).blob,
  });
  leaf(program, runner, {
    name: "catalog",
    summary: "List the repos in a registry",
    args: ["<REGISTRY>"],
    options: [new Option("--full-ref", "(Optional) if true, print the full image reference")],
    load: async () => (await import("./actions/read.js")).catalog,
  });
  leaf(program, runner, {
    name: "config",
    summary: "Get the config of an image",
    args: ["<IMAGE>"],
    load: async () => (await import("./actions/read.js")).config,
  });
  leaf(program, runner, {
    name: "digest",
    summary: "Get the digest of an image",
    args: ["[IMAGE]"],
    options: [
      new Option("--full-ref", "(Optional) if true, print the full image reference by digest"),
      new Option("--tarball <string>", "(Optional) path to tarball containing the image"),
    ],
    load: async () => (await import("./actions/read.js")).digest,
  });
  leaf(program, runner, {
    name: "ls",
    summary: "List the tags in a repo",
    args: ["<REPO>"],
    options: [
      new Option("--full-ref", "(Optional) if true, print the full image reference"),
      new Option(
        "-O, --omit-digest-tags",
        "(Optional), if true, omit digest tags (e.g., ':sha256-...')",
      ),
    ],
    load: async () => (await import("./actions/read.js")).ls,
  });
  leaf(program, runner, {
    name: "manifest",
    summary: "Get the manifest of an image",
    args: ["<IMAGE>"],
    load: async () => (await import("./actions/read.js")).manifest,
  });

  // --- moving images ------------------------------------------------------------------------
  leaf(program, runner, {
    name: "copy",
    aliases: ["cp"],
    summary: "Efficiently copy a remote image from src to dst while retaining the digest value",
    args: ["<SRC>", "<DST>"],
    options: [
      new Option("-a, --all-tags", "(Optional) if true, copy all tags from SRC to DST"),
      new Option("-j, --jobs <int>", "(Optional) The maximum number of concurrent copies")
        .argParser(parseInteger)
        .default(0),
      new Option("-n, --no-clobber", "(Optional) if true, avoid overwriting existing tags in DST"),
    ],
    load: async () => (await import("./actions/copy.js")).copy,
  });
  leaf(program, runner, {
    name: "delete",
    summary: "Delete an image reference from its registry",
    args: ["<IMAGE>"],
    load: async () => (await import("./actions/write.js")).deleteImage,
  });
  leaf(program, runner, {
    name: "pull",
    summary: "Pull remote images by reference and store their contents locally",
    usage: "IMAGE... TARBALL [flags]",
    args: ["<IMAGE_AND_TARBALL...>"],
    options: [
      new Option(
        "--annotate-ref",
        "Preserves image reference used to pull as an annotation when used with --format=oci",
      ),
      new Option("-c, --cache_path <string>", "Path to cache image layers"),
      new Option(
        "--format <string>",
        'Format in which to save images ("tarball", "legacy", or "oci")',
      ).default("tarball"),
    ],
    load: async () => (await import("./actions/pull.js")).pull,
  });
  leaf(program, runner, {
    name: "push",
    summary: "Push local image contents to a remote registry",
    description:
      "Pushes an image from disk. A directory PATH is read as an OCI image layout; any other PATH as a docker-style tarball.",
    args: ["<PATH>", "<IMAGE>"],
    options: [
      new Option(
        "--image-refs <string>",
        "path to file where a list of the published image references will be written",
      ),
      new Option(
        "--index",
        "push a collection of images as a single index, currently required if PATH contains multiple images",
      ),
    ],
    load: async () => (await import("./actions/push.js")).push,
  });
  leaf(program, runner, {
    name: "tag",
    summary: "Efficiently tag a remote image",
    description:
      "Tags a remote image without downloading it. TAG is a bare tag in the image's repository; only the manifest is written, so no blob checks are needed.",
    args: ["<IMG>", "<TAG>"],
    examples: "  # Add a v1 tag to ubuntu\n  hoist tag ubuntu v1",
    load: async () => (await import("./actions/write.js")).tag,
  });

  // --- changing images ----------------------------------------------------------------------
  leaf(program, runner, {
    name: "append",
    summary: "Append contents of a tarball to a remote image",
    description:
      "Pushes an image made of an optional base image plus one layer per given tarball. On a Windows base image the layers are rewritten the way Windows containers expect.",
    options: [
      new Option("-b, --base <string>", "Name of base image to append to").conflicts(
        "ociEmptyBase",
      ),
      list("-f, --new_layer <strings>", "Path to tarball to append to image").makeOptionMandatory(),
      new Option("-t, --new_tag <string>", "Tag to apply to resulting image").makeOptionMandatory(),
      new Option(
        "--oci-empty-base",
        "If true, empty base image will have OCI media types instead of Docker",
      ),
      new Option("-o, --output <string>", "Path to new tarball of resulting image"),
      new Option(
        "--set-base-image-annotations",
        "If true, annotate the resulting image as being based on the base image",
      ),
    ],
    load: async () => (await import("./actions/append.js")).append,
  });
  leaf(program, runner, {
    name: "export",
    summary: "Export filesystem of a container image as a tarball",
    usage: "IMAGE|- TARBALL|- [flags]",
    args: ["<IMAGE>", "[TARBALL]"],
    examples:
      "  # Write tarball to stdout\n  hoist export ubuntu -\n\n  # Write tarball to file\n  hoist export ubuntu ubuntu.tar\n\n  # Read image from stdin\n  hoist export - ubuntu.tar",
    load: async () => (await import("./actions/export.js")).exportAction,
  });
  leaf(program, runner, {
    name: "flatten",
    summary: "Flatten an image's layers into a single layer",
    args: ["<IMAGE>"],
    options: [
      new Option(
        "-t, --tag <string>",
        "New tag to apply to flattened image. If not provided, push by digest to the original image repository.",
      ),
    ],
    load: async () => (await import("./actions/flatten.js")).flatten,
  });
  leaf(program, runner, {
    name: "mutate",
    summary:
      "Modify image labels and annotations. The container must be pushed to a registry, and the manifest is updated there.",
    args: ["<IMAGE>"],
    options: [
      new Option("-a, --annotation <key=value>", "New annotations to add")
        .argParser(collectKeyValues)
        .default({}, "[]"),
      list("--append <strings>", "Path to tarball to append to image").default([], "[]"),
      list("--cmd <strings>", "New cmd to set"),
      list("--entrypoint <strings>", "New entrypoint to set"),
      new Option("-e, --env <keyToValue>", "New envvar to add").argParser(collectEnv),
      list("--exposed-ports <strings>", "New ports to expose"),
      new Option("-l, --label <key=value>", "New labels to add")
        .argParser(collectKeyValues)
        .default({}, "[]"),
      new Option("-o, --output <string>", "Path to new tarball of resulting image"),
      new Option(
        "--repo <string>",
        "Repository to push the mutated image to. If provided, push by digest to this repository.",
      ),
      new Option(
        "--set-platform <string>",
        "New platform to set in the form os/arch[/variant][:osversion] (e.g. linux/amd64)",
      ),
      new Option(
        "-t, --tag <string>",
        "New tag reference to apply to mutated image. If not provided, push by digest to the original image repository.",
      ),
      new Option("-u, --user <string>", "New user to set"),
      new Option("-w, --workdir <string>", "New working dir to set"),
    ],
    load: async () => (await import("./actions/mutate.js")).mutate,
  });
  leaf(program, runner, {
    name: "rebase",
    summary: "Rebase an image onto a new base image",
    args: ["<IMAGE>", "[EXTRA...]"],
    options: [
      new Option("--new_base <string>", "New base image to insert"),
      new Option("--old_base <string>", "Old base image to remove"),
      new Option(
        "--original <string>",
        "Original image to rebase (DEPRECATED: use positional arg instead)",
      ).hideHelp(),
      new Option(
        "--rebased <string>",
        "Tag to apply to rebased image (DEPRECATED: use --tag)",
      ).hideHelp(),
      new Option("-t, --tag <string>", "Tag to apply to rebased image"),
    ],
    load: async () => (await import("./actions/rebase.js")).rebase,
  });

  // --- indexes ------------------------------------------------------------------------------
  const index = group(program, "index", "Modify an image index.");
  leaf(index, runner, {
    name: "append",
    summary: "Append manifests to a remote index.",
    description:
      "Pushes an index made of an optional base index plus the given manifests. Each appended image's platform is read from its config.",
    usage: "[BASE [MANIFEST...]] [flags]",
    args: ["[BASE_AND_MANIFESTS...]"],
    options: [
      new Option(
        "--docker-empty-base",
        "If true, empty base index will have Docker media types instead of OCI",
      ),
      new Option(
        "--flatten",
        "If true, appending an index will append each of its children rather than the index itself",
      ).default(true),
      new Option("--no-flatten").hideHelp(),
      list(
        "-m, --manifest <strings>",
        "References to manifests to append to the base index",
      ).default([], "[]"),
      new Option("-t, --tag <string>", "Tag to apply to resulting image"),
    ],
    examples:
      "  # Create an index from two images\n  hoist index append -m registry.example.com/etcd-amd64:3.4.9 -m registry.example.com/etcd-arm64:3.4.9 -t registry.example.com/etcd",
    load: async () => (await import("./actions/index-commands.js")).indexAppend,
  });
  leaf(index, runner, {
    name: "filter",
    summary: "Modifies a remote index by filtering based on platform.",
    args: ["<REF>"],
    platform: false,
    options: [
      new Option(
        "--platform <platform>",
        "A platform to keep, os/arch[/variant][:osversion] (e.g. linux/amd64); repeat the flag for more",
      ).argParser(collectRepeated),
      new Option("-t, --tag <string>", "Tag to apply to resulting image"),
    ],
    examples:
      "  # Keep only linux/amd64 and linux/arm64, push the result to example.com/ubuntu\n  hoist index filter ubuntu --platform linux/amd64 --platform linux/arm64 -t example.com/ubuntu\n\n  # The same, in place\n  hoist index filter example.com/hello-world:some-tag --platform linux",
    load: async () => (await import("./actions/index-commands.js")).indexFilter,
  });
  leaf(index, runner, {
    name: "list",
    summary: "List the manifests in an index.",
    args: ["<REF>"],
    load: async () => (await import("./actions/index-commands.js")).indexList,
  });

  // --- checking, serving, the tool itself ---------------------------------------------------
  leaf(program, runner, {
    name: "validate",
    summary: "Validate that an image is well-formed",
    options: [
      new Option("--fast", "Skip downloading/digesting layers"),
      new Option("--remote <string>", "Name of remote image to validate"),
      new Option("--tarball <string>", "Path to tarball to validate"),
    ],
    load: async () => (await import("./actions/validate.js")).validate,
  });
  const registry = group(program, "registry", "Run a registry");
  leaf(registry, runner, {
    name: "serve",
    summary: "Serve a registry implementation",
    description:
      "Serves a registry on $PORT, on --address, or on a free port, until interrupted. Manifests are kept in memory; blobs in memory, or on disk with --disk.",
    options: [
      new Option("--address <string>", "Address to listen on"),
      new Option("--disk <string>", "Path to a directory where blobs will be stored"),
      new Option("--blobs-to-disk", "Store blobs on disk in a temporary directory").hideHelp(),
    ],
    load: async () => (await import("./actions/serve.js")).serve,
  });
  leaf(program, runner, {
    name: "version",
    summary: "Print the version",
    description: "Prints hoist's version. Do not parse it: the format may change without notice.",
    load: async () => (await import("./actions/version.js")).version,
  });
  leaf(program, runner, {
    name: "completion",
    summary: "Generate the autocompletion script for the specified shell",
    args: ["<SHELL>"],
    examples: `  # bash, for this session\n  source <(hoist completion bash)\n\n  # zsh\n  hoist completion zsh > "\${fpath[1]}/_hoist"\n\n  # fish\n  hoist completion fish > ~/.config/fish/completions/hoist.fish`,
    load: async () => (await import("./actions/completion.js")).completion,
  });

  return program;
}

/** Every long boolean flag in the tree, for `--flag=true|false` rewriting. */
export function booleanFlags(program: Command): Map<string, { negatable: boolean }> {
  const found = new Map<string, { negatable: boolean }>();
  const visit = (command: Command) => {
    const longs = new Set(command.options.map((option) => option.long));
    for (const option of command.options) {
      if (option.required || option.optional || !option.long) continue;
      const name = option.long.replace(/^--/, "");
      if (option.negate && longs.has(`--${name.slice(3)}`)) {
        // --flatten with a hidden --no-flatten: --flatten=false becomes --no-flatten.
        found.set(name.slice(3), { negatable: true });
      } else if (!found.has(name)) {
        // Includes crane's --no-clobber, which is a flag of its own, not a negation.
        found.set(name, { negatable: false });
      }
    }
    for (const sub of command.commands) visit(sub);
  };
  visit(program);
  return found;
}
