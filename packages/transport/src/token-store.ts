import type { Clock } from "./clock.js";

export interface CachedToken {
  readonly value: string;
  /** Epoch ms after which the token is not used any more (already shortened by a margin). */
  readonly expiresAt: number;
}

interface Entry {
  token?: CachedToken | undefined;
  pending?: Promise<CachedToken> | undefined;
}

/** Renew this long before the stated expiry so a token does not lapse in flight. */
export function expiryMargin(lifetimeMs: number): number {
  return Math.min(30_000, lifetimeMs * 0.1);
}

/**
 * Bearer tokens per credential owner and scope set, kept until shortly before they expire.
 * Concurrent requests for the same key share one exchange. Owners are held weakly so a
 * forgotten authenticator takes its tokens with it.
 */
export class TokenStore {
  readonly #clock: Clock;
  readonly #entries = new WeakMap<object, Map<string, Entry>>();
  readonly #refreshTokens = new WeakMap<object, Map<string, string>>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  #map(owner: object): Map<string, Entry> {
    let map = this.#entries.get(owner);
    if (!map) {
      map = new Map();
      this.#entries.set(owner, map);
    }
    return map;
  }

  /** The cached token for the key while it is valid; undefined means `obtain` must wait. */
  peek(owner: object, key: string): CachedToken | undefined {
    const token = this.#entries.get(owner)?.get(key)?.token;
    return token !== undefined && this.#clock.now() < token.expiresAt ? token : undefined;
  }

  /** A valid cached token, or the result of `fetch`, shared with concurrent callers. */
  obtain(owner: object, key: string, fetch: () => Promise<CachedToken>): Promise<CachedToken> {
    const map = this.#map(owner);
    let entry = map.get(key);
    if (!entry) {
      entry = {};
      map.set(key, entry);
    }
    if (entry.token && this.#clock.now() < entry.token.expiresAt)
      return Promise.resolve(entry.token);
    if (entry.pending) return entry.pending;
    const current = entry;
    const pending = fetch().then(
      (token) => {
        current.token = token;
        current.pending = undefined;
        return token;
      },
      (error: unknown) => {
        current.pending = undefined;
        throw error;
      },
    );
    current.pending = pending;
    return pending;
  }

  /**
   * Drops `value` if it is still the cached token for the key. Requests that failed with an
   * older token do not throw away a newer one another request already fetched.
   */
  invalidate(owner: object, key: string, value: string): void {
    const entry = this.#entries.get(owner)?.get(key);
    if (entry?.token?.value === value) entry.token = undefined;
  }

  /** A refresh token the server issued for this owner and realm, replacing the original one. */
  refreshToken(owner: object, realmKey: string): string | undefined {
    return this.#refreshTokens.get(owner)?.get(realmKey);
  }

  setRefreshToken(owner: object, realmKey: string, token: string): void {
    let map = this.#refreshTokens.get(owner);
    if (!map) {
      map = new Map();
      this.#refreshTokens.set(owner, map);
    }
    map.set(realmKey, token);
  }
}
