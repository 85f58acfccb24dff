import { inspect } from "node:util";

/** A place text went: a log line, an error message, a serialised error. */
export interface Exposure {
  /** Where the text was seen, e.g. "debug line 12" or "error.cause.message". */
  readonly where: string;
  readonly text: string;
}

/** A secret found in an exposure. */
export interface Leak {
  readonly where: string;
  /** Which secret (by label, never the value). */
  readonly secret: string;
  /** The form it appeared in: raw, base64, url-encoded, JSON-escaped. */
  readonly form: string;
}

/** A secret to look for, with a label that may be printed. */
export interface Secret {
  readonly label: string;
  readonly value: string;
}

/**
 * The forms a secret can take on its way out: as is, URL-encoded (a form body or query), JSON
 * escaped, and inside base64 (a Basic header carries base64 of `user:password`; the password
 * alone is found by encoding it at each of the three byte alignments).
 */
export function secretForms(value: string): { form: string; text: string }[] {
  const forms = [
    { form: "raw", text: value },
    { form: "url-encoded", text: encodeURIComponent(value) },
    { form: "form-encoded", text: new URLSearchParams({ x: value }).toString().slice(2) },
    { form: "json-escaped", text: JSON.stringify(value).slice(1, -1) },
  ];
  const bytes = Buffer.from(value, "utf8");
  for (let pad = 0; pad < 3; pad++) {
    const encoded = Buffer.concat([Buffer.alloc(pad), bytes]).toString("base64");
    // Keep only the characters whose six bits all come from the secret: the ones before
    // depend on what precedes it, the ones after on what follows.
    const start = Math.ceil((pad * 8) / 6);
    const end = Math.floor(((pad + bytes.length) * 8) / 6);
    const text = encoded.slice(start, Math.max(start, end));
    if (text.length >= 8) forms.push({ form: `base64@${pad}`, text });
  }
  const seen = new Set<string>();
  return forms.filter((f) => f.text.length >= 4 && !seen.has(f.text) && seen.add(f.text));
}

/** Every secret form found in the exposures. Secrets shorter than 6 characters are refused. */
export function findLeaks(exposures: readonly Exposure[], secrets: readonly Secret[]): Leak[] {
  const leaks: Leak[] = [];
  for (const secret of secrets) {
    if (secret.value.length < 6) {
      throw new Error(`secret "${secret.label}" is too short to search for without false alarms`);
    }
    const forms = secretForms(secret.value);
    for (const exposure of exposures) {
      for (const { form, text } of forms) {
        if (exposure.text.includes(text)) {
          leaks.push({ where: exposure.where, secret: secret.label, form });
          break;
        }
      }
    }
  }
  return leaks;
}

/**
 * Everything an error shows when it is logged, reported or serialised: its message and stack,
 * every field, every `cause` down the chain (and `errors` of aggregates), `String(error)`,
 * `JSON.stringify(error)` and `util.inspect(error)` with hidden fields at full depth.
 */
export function errorExposures(error: unknown, label = "error"): Exposure[] {
  const out: Exposure[] = [];
  const seen = new Set<unknown>();
  const walk = (value: unknown, where: string, depth: number) => {
    if (depth > 20 || value === null || value === undefined) return;
    if (typeof value !== "object" && typeof value !== "function") {
      out.push({ where, text: String(value) });
      return;
    }
    if (seen.has(value)) return;
    seen.add(value);
    if (value instanceof Error) {
      out.push({ where: `${where}.message`, text: value.message });
      if (value.stack) out.push({ where: `${where}.stack`, text: value.stack });
    }
    for (const key of Reflect.ownKeys(value)) {
      let inner: unknown;
      try {
        inner = (value as Record<string | symbol, unknown>)[key];
      } catch {
        continue;
      }
      if (typeof inner === "function") continue;
      walk(inner, `${where}.${String(key)}`, depth + 1);
    }
  };
  walk(error, label, 0);
  out.push({ where: `String(${label})`, text: String(error) });
  try {
    out.push({ where: `JSON.stringify(${label})`, text: JSON.stringify(error) ?? "" });
  } catch (cause) {
    out.push({ where: `JSON.stringify(${label}) threw`, text: String(cause) });
  }
  out.push({
    where: `util.inspect(${label})`,
    text: inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
  });
  return out;
}

/** Log lines as exposures. */
export function lineExposures(lines: readonly string[], label = "log line"): Exposure[] {
  return lines.map((text, i) => ({ where: `${label} ${i + 1}`, text }));
}
