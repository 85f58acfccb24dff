import type { Authenticator, Keychain } from "@hoist/authn";
import type { Registry, Repository } from "@hoist/name";
import { createTransport, type Session, type Transport } from "@hoist/transport";
import type { Dispatcher, ResolvedOptions } from "./options.js";
import { translating } from "./translate-error.js";

/** What a session is for; each gets its own token scopes. */
export type Access = "pull" | "push" | "delete" | "catalog";

function isTransport(value: Transport | Dispatcher): value is Transport {
  return typeof (value as Transport).session === "function";
}

/**
 * Scopes per access. Pushes ask for pull too: registries such as Harbor refuse a push token
 * without it, and a push checks what exists first.
 */
function scopesFor(target: Repository | Registry, access: Access): string[] {
  if (access === "catalog" || !("path" in target)) return ["registry:catalog:*"];
  if (access === "pull") return [target.scope("pull")];
  if (access === "push") return [target.scope("pull,push")];
  return [target.scope("pull,push,delete")];
}

/**
 * The shared core of Pullers and Pushers: one transport (so one connection pool,
 * one ping per registry and one token cache) and one authenticated session per repository and
 * access, created once and reused by every call.
 */
export class RemoteClient {
  readonly transport: Transport;
  readonly #ownsTransport: boolean;
  readonly #keychain: Keychain | undefined;
  readonly #auth: Authenticator | undefined;
  readonly #sessions = new Map<string, Promise<Session>>();

  constructor(options: ResolvedOptions) {
    this.#keychain = options.keychain;
    this.#auth = options.auth;
    const given = options.transport;
    if (given && isTransport(given)) {
      this.transport = given;
      this.#ownsTransport = false;
    } else {
      this.transport = createTransport({
        ...(options.userAgent === undefined ? {} : { userAgent: options.userAgent }),
        ...(options.retry === undefined ? {} : { retry: options.retry }),
        ...(given === undefined ? {} : { dispatcher: given }),
      });
      this.#ownsTransport = true;
    }
  }

  /** The session for `target` with `access`; a failed attempt is forgotten so the next retries. */
  session(
    target: Repository | Registry,
    access: Access,
    signal: AbortSignal | undefined,
  ): Promise<Session> {
    const registry = "path" in target ? target.registry : target;
    const key = `${registry.host}\n${"path" in target ? target.path : ""}\n${access}`;
    let session = this.#sessions.get(key);
    if (!session) {
      const context = { operation: "connect to", reference: String(target), signal };
      session = translating(context, () =>
        this.transport.session({
          registry,
          ...(this.#auth ? { authenticator: this.#auth } : {}),
          ...(this.#keychain ? { keychain: this.#keychain, resource: target } : {}),
          scopes: scopesFor(target, access),
          ...(signal ? { signal } : {}),
        }),
      );
      this.#sessions.set(key, session);
      session.catch(() => {
        if (this.#sessions.get(key) === session) this.#sessions.delete(key);
      });
    }
    return session;
  }

  /** Closes the transport if this client created it. */
  async close(): Promise<void> {
    if (this.#ownsTransport) await this.transport.close();
  }
}
