import type { Command } from "commander";
import { usageError } from "../errors.js";
import { type Action, buildProgram } from "../program.js";

// Shell completion scripts, generated from the command tree itself so they never drift from
// the flags hoist really has. Each script works out the command path from the words typed so
// far (skipping flags), then offers that command's subcommands or flags; positional arguments
// fall back to file names (tarballs, layouts).

interface Node {
  path: string;
  summary: string;
  children: { name: string; summary: string }[];
  flags: { names: string[]; description: string }[];
}

function nodes(program: Command): Node[] {
  const out: Node[] = [];
  const visit = (command: Command, path: string) => {
    const visible = command.commands.filter((sub) => !(sub as { _hidden?: boolean })._hidden);
    out.push({
      path,
      summary: command.summary(),
      children: visible.flatMap((sub) =>
        [sub.name(), ...sub.aliases()].map((name) => ({ name, summary: sub.summary() })),
      ),
      flags: [
        ...command.options
          .filter((option) => !option.hidden)
          .map((option) => ({
            names: [option.long, option.short].filter((n): n is string => Boolean(n)),
            description: option.description,
          })),
        { names: ["--help", "-h"], description: `help for ${command.name()}` },
      ],
    });
    for (const sub of visible) {
      for (const name of [sub.name(), ...sub.aliases()]) {
        visit(sub, path ? `${path} ${name}` : name);
      }
    }
  };
  visit(program, "");
  return out;
}

const single = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** Every "parent child" step that leads to a command, for the path walk. */
function steps(all: Node[]): string[] {
  return all.flatMap((node) =>
    node.children.map((child) => (node.path ? `${node.path} ${child.name}` : child.name)),
  );
}

export function bashCompletion(program: Command): string {
  const all = nodes(program);
  const cases = all
    .map((node) => {
      const words = [...node.children.map((c) => c.name)];
      const flags = node.flags.flatMap((f) => f.names);
      return `    ${single(node.path)}) commands=${single(words.join(" "))}; flags=${single(flags.join(" "))} ;;`;
    })
    .join("\n");
  return `# bash completion for hoist
# Load it with: source <(hoist completion bash)

__hoist_is_step() {
  case "$1" in
${steps(all)
  .map((step) => `    ${single(step)}) return 0 ;;`)
  .join("\n")}
  esac
  return 1
}

_hoist() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" word i commands flags next
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    [[ "$word" == -* ]] && continue
    if [[ -z "$path" ]]; then next="$word"; else next="$path $word"; fi
    __hoist_is_step "$next" && path="$next"
  done
  case "$path" in
${cases}
    *) commands=""; flags="" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  elif [[ -n "$commands" ]]; then
    COMPREPLY=($(compgen -W "$commands" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}

complete -o default -F _hoist hoist
`;
}

const zshEscape = (text: string) =>
  text.replace(/\\/g, "\\\\").replace(/:/g, "\\:").replace(/'/g, "'\\''");

export function zshCompletion(program: Command): string {
  const all = nodes(program);
  const cases = all
    .map((node) => {
      const commands = node.children.map((c) => `'${zshEscape(c.name)}:${zshEscape(c.summary)}'`);
      const flags = node.flags.flatMap((f) =>
        f.names.map((n) => `'${zshEscape(n)}:${zshEscape(f.description)}'`),
      );
      return `    ${single(node.path)})\n      commands=(${commands.join(" ")})\n      flags=(${flags.join(" ")})\n      ;;`;
    })
    .join("\n");
  return `#compdef hoist
# zsh completion for hoist
# Load it with: source <(hoist completion zsh), or save it as _hoist in a directory of $fpath.

_hoist() {
  local -a commands flags
  local path="" word next i
  for ((i = 2; i < CURRENT; i++)); do
    word="\${words[i]}"
    [[ "$word" == -* ]] && continue
    if [[ -z "$path" ]]; then next="$word"; else next="$path $word"; fi
    case "$next" in
${steps(all)
  .map((step) => `      ${single(step)}) path="$next" ;;`)
  .join("\n")}
    esac
  done
  case "$path" in
${cases}
  esac
  if [[ "\${words[CURRENT]}" == -* ]]; then
    _describe -t flags 'flag' flags
  elif (( \${#commands} )); then
    _describe -t commands 'command' commands
  else
    _files
  fi
}

if [[ "$funcstack[1]" == "_hoist" ]]; then
  _hoist "$@"
else
  compdef _hoist hoist
fi
`;
}

const fishEscape = (text: string) => text.replace(/\\/g, "\\\\").replace(/'/g, "\\'");

export function fishCompletion(program: Command): string {
  const all = nodes(program);
  const lines: string[] = [
    "# fish completion for hoist",
    "# Load it with: hoist completion fish | source",
    "",
    "function __hoist_path",
    "    set -l tokens (commandline -opc)",
    "    set -l path ''",
    "    for word in $tokens[2..-1]",
    "        string match -q -- '-*' $word; and continue",
    '        if test -z "$path"',
    "            set next $word",
    "        else",
    '            set next "$path $word"',
    "        end",
    `        if contains -- $next ${steps(all)
      .map((s) => `'${fishEscape(s)}'`)
      .join(" ")}`,
    "            set path $next",
    "        end",
    "    end",
    "    echo $path",
    "end",
    "",
    "complete -c hoist -f",
  ];
  for (const node of all) {
    const condition = `'test (__hoist_path) = ${fishEscape(JSON.stringify(node.path))}'`;
    for (const child of node.children) {
      lines.push(
        `complete -c hoist -n ${condition} -a '${fishEscape(child.name)}' -d '${fishEscape(child.summary)}'`,
      );
    }
    for (const flag of node.flags) {
      const long = flag.names.find((n) => n.startsWith("--"));
      const short = flag.names.find((n) => /^-[^-]/.test(n));
      const parts = [
        long ? `-l '${fishEscape(long.slice(2))}'` : "",
        short ? `-s '${fishEscape(short.slice(1))}'` : "",
      ].filter(Boolean);
      lines.push(
        `complete -c hoist -n ${condition} ${parts.join(" ")} -d '${fishEscape(flag.description)}'`,
      );
    }
    if (node.children.length === 0 && node.path !== "") {
      lines.push(`complete -c hoist -n ${condition} -F`);
    }
  }
  return `${lines.join("\n")}\n`;
}

const SHELLS: Record<string, (program: Command) => string> = {
  bash: bashCompletion,
  zsh: zshCompletion,
  fish: fishCompletion,
};

/** `hoist completion bash|zsh|fish`: prints the script on stdout. */
export const completion: Action = async (context, args) => {
  const shell = args[0] as string;
  const generate = SHELLS[shell];
  if (!generate) {
    throw usageError(
      `unsupported shell ${JSON.stringify(shell)}: choose bash, zsh or fish`,
      "completion",
    );
  }
  const program = buildProgram(async () => {});
  await context.out(generate(program));
};
