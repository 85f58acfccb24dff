import { describe, expect, it } from "vitest";
import {
  anonymous,
  basic,
  type Keychain,
  type KeychainFailure,
  MultiKeychainError,
  multiKeychain,
} from "./index.js";

const resource = { host: "reg.example", toString: () => "reg.example" };

function fixed(
  name: string,
  answer: () => ReturnType<Keychain["resolve"]>,
): Keychain & { calls: number } {
  const keychain = {
    name,
    calls: 0,
    resolve() {
      keychain.calls++;
      return answer();
    },
  };
  return keychain;
}

describe("multiKeychain", () => {
  it("returns the first non-anonymous answer and stops there", async () => {
    const a = fixed("a", async () => anonymous);
    const winner = basic("u", "p");
    const b = fixed("b", async () => winner);
    const c = fixed("c", async () => basic("x", "y"));
    expect(await multiKeychain([a, b, c]).resolve(resource)).toBe(winner);
    expect([a.calls, b.calls, c.calls]).toEqual([1, 1, 0]);
  });

  it("is anonymous when every keychain is", async () => {
    expect(await multiKeychain([fixed("a", async () => anonymous)]).resolve(resource)).toBe(
      anonymous,
    );
    expect(await multiKeychain([]).resolve(resource)).toBe(anonymous);
  });

  it("reports a failure but lets a later keychain answer", async () => {
    const failures: KeychainFailure[] = [];
    const boom = new Error("helper exploded");
    const winner = basic("u", "p");
    const keychain = multiKeychain(
      [fixed("broken", async () => Promise.reject(boom)), fixed("good", async () => winner)],
      {
        onError: (failure) => failures.push(failure),
      },
    );
    expect(await keychain.resolve(resource)).toBe(winner);
    expect(failures).toEqual([{ keychain: "broken", error: boom }]);
  });

  it("throws every failure when no keychain had credentials, instead of going anonymous", async () => {
    const keychain = multiKeychain([
      fixed("one", async () => Promise.reject(new Error("first"))),
      fixed("none", async () => anonymous),
      fixed("two", async () => Promise.reject(new Error("second"))),
    ]);
    const error = await keychain.resolve(resource).catch((e) => e);
    expect(MultiKeychainError.is(error)).toBe(true);
    expect(error.code).toBe("HOIST_AUTHN_KEYCHAIN_FAILED");
    expect(error.failures.map((f: KeychainFailure) => f.keychain)).toEqual(["one", "two"]);
    expect(error.message).toContain("one: first");
    expect(error.message).toContain("two: second");
    expect(error.message).toContain('"reg.example"');
  });

  it("stops at the first failure with stopOnError", async () => {
    const later = fixed("later", async () => basic("u", "p"));
    const keychain = multiKeychain(
      [fixed("broken", async () => Promise.reject(new Error("no"))), later],
      {
        stopOnError: true,
      },
    );
    await expect(keychain.resolve(resource)).rejects.toMatchObject({
      code: "HOIST_AUTHN_KEYCHAIN_FAILED",
      keychain: "broken",
    });
    expect(later.calls).toBe(0);
  });

  it("passes an abort through untouched", async () => {
    const controller = new AbortController();
    const reason = new Error("aborted by caller");
    const keychain = multiKeychain([
      fixed("slow", async () => {
        controller.abort(reason);
        throw reason;
      }),
      fixed("never", async () => basic("u", "p")),
    ]);
    await expect(keychain.resolve(resource, { signal: controller.signal })).rejects.toBe(reason);
  });

  it("names itself after its members", () => {
    expect(
      multiKeychain([fixed("a", async () => anonymous), fixed("b", async () => anonymous)]).name,
    ).toBe("multi(a, b)");
  });
});
