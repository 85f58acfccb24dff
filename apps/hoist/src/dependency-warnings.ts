import type { EventEmitter } from "node:events";

// The cloud SDKs behind the credential plugins talk to whoever runs the process: the AWS SDK
// announces its own Node support plans, Google's metadata lookup reports that no metadata server
// answered (off Google Cloud, always). Neither tells a hoist user anything they can act on, and
// both land above the one line that matters. They are shown with -v; every other warning is
// printed as Node prints it.
function fromDependency(warning: Error): boolean {
  return (
    warning.name === "MetadataLookupWarning" ||
    warning.message.startsWith("NodeVersionSupportWarning:")
  );
}

/**
 * Routes process warnings through Node's own printer, leaving out the cloud SDKs' notices
 * unless `verbose`. Returns a function that puts Node's printer back.
 */
export function quietDependencyWarnings(
  options: { verbose: boolean; process?: EventEmitter } = { verbose: false },
): () => void {
  const target = options.process ?? process;
  const printers = target.listeners("warning") as Array<(warning: Error) => void>;
  if (options.verbose || printers.length === 0) return () => {};
  const filter = (warning: Error) => {
    if (fromDependency(warning)) return;
    for (const print of printers) print(warning);
  };
  for (const print of printers) target.off("warning", print);
  target.on("warning", filter);
  return () => {
    target.off("warning", filter);
    for (const print of printers) target.on("warning", print);
  };
}
