import type { Image, ImageIndex } from "./interfaces.js";
import { checkAnnotations, checkMediaType, DerivedImage } from "./mutate-image.js";
import { DerivedIndex } from "./mutate-index.js";

function isIndex(target: Image | ImageIndex): target is ImageIndex {
  return typeof (target as ImageIndex).indexManifest === "function";
}

/**
 * A new image or index with these annotations set on its manifest. Existing annotations with
 * other keys are kept.
 */
export function setAnnotations(target: Image, annotations: Record<string, string>): Image;
export function setAnnotations(target: ImageIndex, annotations: Record<string, string>): ImageIndex;
export function setAnnotations(
  target: Image | ImageIndex,
  annotations: Record<string, string>,
): Image | ImageIndex {
  const added = { ...checkAnnotations(annotations, "set annotations") };
  if (isIndex(target)) {
    return new DerivedIndex(target, {
      manifest: (index) => ({ ...index, annotations: { ...index.annotations, ...added } }),
    });
  }
  return new DerivedImage(target, {
    manifest: (manifest) => ({ ...manifest, annotations: { ...manifest.annotations, ...added } }),
  });
}

/**
 * A new image or index whose manifest's `mediaType` field is `mediaType` (for example to turn an
 * OCI manifest into a Docker one; the layers' media types are left as they are).
 */
export function setMediaType(target: Image, mediaType: string): Image;
export function setMediaType(target: ImageIndex, mediaType: string): ImageIndex;
export function setMediaType(target: Image | ImageIndex, mediaType: string): Image | ImageIndex {
  checkMediaType(mediaType, "set media type");
  if (isIndex(target))
    return new DerivedIndex(target, { manifest: (index) => ({ ...index, mediaType }) });
  return new DerivedImage(target, { manifest: (manifest) => ({ ...manifest, mediaType }) });
}
