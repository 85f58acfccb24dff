import { paceCollections } from "./collection-pacing.js";
import type { Context } from "./context.js";
import { youngCollector } from "./young-collector.js";

// Progress bars for pull, push, copy and append: drawn on stderr only when it is a terminal
// (never into a pipe, a CI log or a test), without colour when NO_COLOR or TERM=dumb says so.
// One bar for the whole operation (bytes, throughput, time left) and one line per layer
// showing its state as the libraries report it.

export interface ProgressUpdate {
  complete: number;
  total: number;
}

export type ItemState =
  | "waiting"
  | "uploading"
  | "downloading"
  | "writing"
  | "exists"
  | "mounted"
  | "done"
  | "skipped";

export interface ProgressView {
  /** The whole operation's bytes. */
  update(progress: ProgressUpdate): void;
  /** One layer or blob: its short name, state, and bytes done of its size. */
  item(id: string, state: ItemState, done?: number, size?: number): void;
  /** Removes the bars; call it whatever happened. */
  stop(): void;
}

const SILENT: ProgressView = Object.freeze({
  update() {},
  item() {},
  stop() {},
});

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

export function shortDigest(digest: string): string {
  const hex = digest.includes(":") ? digest.slice(digest.indexOf(":") + 1) : digest;
  return hex.slice(0, 12);
}

/** Bars for one operation ("pushing", "copying", …); silent unless stderr is a terminal. */
export async function createProgress(context: Context, label: string): Promise<ProgressView> {
  return paceCollections(await createView(context, label), youngCollector());
}

async function createView(context: Context, label: string): Promise<ProgressView> {
  if (!context.interactive) return SILENT;
  // cli-progress is CommonJS: its exports arrive on the default export of the ESM namespace.
  const loaded = await import("cli-progress");
  const { MultiBar, Presets } = loaded.default ?? loaded;
  const color = context.color;
  const started = Date.now();
  const multi = new MultiBar(
    {
      stream: context.io.stderr as unknown as NodeJS.WritableStream,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      autopadding: true,
      barsize: 30,
      fps: 10,
      format: (options, params, payload: Record<string, string>) => {
        const size = options.barsize ?? 30;
        const filled = Math.round(params.progress * size);
        const bar = `${"█".repeat(filled)}${"░".repeat(Math.max(0, size - filled))}`;
        if (payload.kind === "item") {
          const text = payload.state ?? "";
          const state = color ? `\u001b[2m${text}\u001b[0m` : text;
          return `  ${payload.id}  ${state.padEnd(color ? 20 : 11)} ${payload.bytes}`;
        }
        const seconds = Math.max((Date.now() - started) / 1000, 0.001);
        const rate = `${formatBytes(params.value / seconds)}/s`;
        const shown = color ? `\u001b[36m${bar}\u001b[0m` : bar;
        const percent = `${Math.floor(params.progress * 100)}%`.padStart(4);
        return `${label} ${shown} ${percent} | ${formatBytes(params.value)}/${formatBytes(params.total)} | ${rate}`;
      },
    },
    Presets.shades_classic,
  );
  const main = multi.create(1, 0, { kind: "total" });
  const items = new Map<string, ReturnType<typeof multi.create>>();
  let stopped = false;
  return {
    update({ complete, total }) {
      if (stopped) return;
      main.setTotal(Math.max(total, 1));
      main.update(complete);
    },
    item(id, state, done, size) {
      if (stopped) return;
      const bytes =
        done !== undefined && size !== undefined
          ? `${formatBytes(done)}/${formatBytes(size)}`
          : size !== undefined
            ? formatBytes(size)
            : "";
      const payload = { kind: "item", id, state, bytes };
      const existing = items.get(id);
      if (existing) existing.update(0, payload);
      else items.set(id, multi.create(1, 0, payload));
    },
    stop() {
      if (stopped) return;
      stopped = true;
      multi.stop();
    },
  };
}
