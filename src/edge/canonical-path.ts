/**
 * The path the route policy matches, from the URI a gateway forwarded. The
 * query and fragment are dropped; percent-encoding is decoded once, as the
 * upstream will decode it, so `/v1/%73end` is `/v1/send`. A path the
 * upstream might read differently from us is refused, never matched loosely:
 * dot segments (`/../`, `/./`, `%2e`), encoded or literal backslashes and
 * encoded slashes (`%5c`, `%2f`), empty segments (`//`), path parameters
 * (`;`), encoded `?` and `#`, double encoding (`%25xx`), control characters and malformed escapes.
 * Pure: no I/O.
 */

export type CanonicalPath = { ok: true; path: string } | { ok: false; reason: string };

const MAX_LENGTH = 4096;

/** Segments of unreserved characters but dots, no empty one but a trailing slash: canonical as it stands. */
const PLAIN_PATH = /^(?:\/[A-Za-z0-9_~-]+)+\/?$/;

export function canonicalPath(uri: string): CanonicalPath {
  // The common case, nothing to decode or refuse (most public API paths).
  if (uri.length <= MAX_LENGTH && PLAIN_PATH.test(uri)) return { ok: true, path: uri };
  const end = uri.search(/[?#]/);
  const raw = end === -1 ? uri : uri.slice(0, end);
  if (!raw.startsWith("/")) return { ok: false, reason: "the path must start with /" };
  if (raw.length > MAX_LENGTH) return { ok: false, reason: `the path is longer than ${MAX_LENGTH} characters` };
  if (/%2f|%5c/i.test(raw)) return { ok: false, reason: "the path has an encoded slash or backslash" };
  if (raw.includes("\\")) return { ok: false, reason: "the path has a backslash" };
  if (raw.includes(";")) return { ok: false, reason: "the path has a path parameter (;)" };
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    return { ok: false, reason: "the path has a malformed percent-encoding" };
  }
  if (/%[0-9a-f]{2}/i.test(path)) return { ok: false, reason: "the path is encoded twice" };
  if (/[\u0000-\u001f\u007f;?#]/.test(path)) {
    return { ok: false, reason: "the path has an encoded control character, ;, ? or #" };
  }
  const segments = path.split("/").slice(1);
  for (const [i, segment] of segments.entries()) {
    if (segment === "." || segment === "..") return { ok: false, reason: "the path has a dot segment" };
    // A trailing slash is one empty last segment; anywhere else it is `//`.
    if (segment === "" && i < segments.length - 1) return { ok: false, reason: "the path has an empty segment (//)" };
  }
  return { ok: true, path };
}
