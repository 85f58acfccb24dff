// Runs in a child process started by acr.test.ts, so that NODE_EXTRA_CA_CERTS (read only at
// start-up) makes the Azure SDK trust the loopback https server. Prints one JSON line.
import { guardLoopbackOnly } from "@hoist/harness/loopback-guard";

const guard = guardLoopbackOnly();
const { acrKeychain } = await import(process.env.HOIST_AZURE_DIST);
const host = process.env.HOIST_FAKE_ACR_HOST;
const keychain = acrKeychain({
  // MSAL checks unknown authority hosts against login.microsoftonline.com unless told not to.
  credentialOptions: { disableInstanceDiscovery: true },
  matches: (candidate) => candidate === host,
});
const result = {};
try {
  const auth = await keychain.resolve({ host, toString: () => host });
  result.credential = await auth.authorization();
  result.again = await (await keychain.resolve({ host, toString: () => host })).authorization();
} catch (error) {
  result.error = { code: error.code, message: error.message };
}
result.refused = guard.refused;
process.stdout.write(`${JSON.stringify(result)}\n`);
