import { quote, RegistryError } from "../errors.js";

export function uploadUnknown(id: string, operation: string): RegistryError {
  return new RegistryError(
    `no upload session ${quote(id)}; it was finished, cancelled or never started. Start a new one.`,
    { code: "HOIST_REGISTRY_UPLOAD_UNKNOWN", operation, input: id },
  );
}

export function blobUnknown(digest: string): RegistryError {
  return new RegistryError(`blob ${digest} is not stored; push it first`, {
    code: "HOIST_REGISTRY_BLOB_UNKNOWN",
    operation: "read blob",
    input: digest,
  });
}

export function digestMismatch(expected: string, actual: string, size: number): RegistryError {
  return new RegistryError(
    `the ${size} uploaded bytes hash to ${actual}, not to ${expected}; nothing was stored. ` +
      "Upload the right bytes or commit with their real digest.",
    { code: "HOIST_REGISTRY_DIGEST_MISMATCH", operation: "commit upload", input: expected },
  );
}
