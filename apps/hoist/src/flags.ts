import { InvalidArgumentError } from "commander";
import { CliError } from "./errors.js";

// crane's flags come from spf13/pflag. These parsers give commander the same value syntax, so a
// script written for crane passes the same strings to hoist: comma lists, key=value maps,
// repeatable flags, and `--flag=true|false` for booleans.

/** pflag `StringSlice`: repeatable, and each value is a comma-separated list. */
export function collectList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...splitCommaList(value)];
}

/** pflag reads a slice value as one CSV record: commas split, double quotes group. */
export function splitCommaList(value: string): string[] {
  if (value === "") return [];
  const out: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const char = value[i] as string;
    if (quoted) {
      if (char === '"' && value[i + 1] === '"') {
        current += '"';
        i++;
      } else if (char === '"') {
        quoted = false;
      } else {
        current += char;
      }
    } else if (char === '"' && current === "") {
      quoted = true;
    } else if (char === ",") {
      out.push(current);
      current = "";
    } else {
      current += char;
    }
  }
  if (quoted) throw new InvalidArgumentError(`unterminated quote in ${JSON.stringify(value)}`);
  out.push(current);
  return out;
}

/** pflag `StringArray`: repeatable, never split. */
export function collectRepeated(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * pflag `StringToString` (`-l k=v`, `-a k=v`): one `=` means one pair whose value may hold
 * commas; several `=` mean a comma-separated list of pairs. Later flags override earlier keys.
 */
export function collectKeyValues(
  value: string,
  previous: Record<string, string> | undefined,
): Record<string, string> {
  const out: Record<string, string> = { ...(previous ?? {}) };
  const equals = value.split("=").length - 1;
  if (equals === 0) throw new InvalidArgumentError(`${value} must be formatted as key=value`);
  const pairs = equals === 1 ? [value.replace(/^"+|"+$/g, "")] : splitCommaList(value);
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at < 0) throw new InvalidArgumentError(`${pair} must be formatted as key=value`);
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}

/** crane's `keyToValue` (`-e K=V`): ordered pairs, split at the first `=`. */
export interface EnvPair {
  key: string;
  value: string;
}

export function collectEnv(value: string, previous: EnvPair[] | undefined): EnvPair[] {
  const at = value.indexOf("=");
  if (at < 0) throw new InvalidArgumentError(`${value} must be formatted as key=value`);
  return [...(previous ?? []), { key: value.slice(0, at), value: value.slice(at + 1) }];
}

/** pflag `Int`: decimal, optional sign. */
export function parseInteger(value: string): number {
  if (!/^[+-]?\d+$/.test(value.trim())) {
    throw new InvalidArgumentError(`invalid argument ${JSON.stringify(value)}: not an integer`);
  }
  return Number.parseInt(value, 10);
}

const TRUE = new Set(["1", "t", "T", "true", "TRUE", "True"]);
const FALSE = new Set(["0", "f", "F", "false", "FALSE", "False"]);

/**
 * Rewrites pflag's boolean syntax that commander does not know: `--flag=true` becomes `--flag`,
 * `--flag=false` becomes `--no-flag` (for flags that default to true, which hoist registers with
 * a negation) or disappears (for flags that default to false). Everything after `--` is left
 * alone.
 */
export function normalizeBooleanFlags(
  argv: readonly string[],
  booleans: ReadonlyMap<string, { negatable: boolean }>,
): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      out.push(...argv.slice(i));
      break;
    }
    const match = /^--([^=]+)=(.*)$/s.exec(arg);
    const flag = match && booleans.get(match[1] as string);
    if (!match || !flag) {
      out.push(arg);
      continue;
    }
    const value = match[2] as string;
    if (TRUE.has(value)) out.push(`--${match[1]}`);
    else if (FALSE.has(value)) {
      if (flag.negatable) out.push(`--no-${match[1]}`);
    } else {
      throw new CliError(
        `invalid argument ${JSON.stringify(value)} for "--${match[1]}" flag: use true or false`,
        { code: "HOIST_CLI_USAGE", operation: "parse flags", input: arg },
      );
    }
  }
  return out;
}
