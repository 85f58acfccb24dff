import { text } from "node:stream/consumers";
import { getCredentials, login, logout } from "@hoist/authn";
import { Repository } from "@hoist/name";
import { CliError, usageError } from "../errors.js";
import { goJsonLine } from "../go-json.js";
import type { Action } from "../program.js";
import { ExitStatus } from "../run.js";

/**
 * `hoist auth get [REGISTRY]`: the credentials hoist would use, in the credential-helper
 * answer format, so hoist can serve as a docker credential helper.
 */
export const authGet: Action = async (context, args) => {
  const server = args[0] ?? (await text(context.io.stdin)).trim();
  if (!server) {
    throw usageError("a registry is required, as an argument or on stdin", "auth get");
  }
  const found = await getCredentials(server, {
    keychain: await context.keychain(),
    env: context.io.env,
    signal: context.signal,
  });
  if (!found) {
    // The helper protocol's words for "nothing stored", on stdout, with status 1.
    await context.out("credentials not found in native keychain\n");
    throw new ExitStatus(1);
  }
  const answer: Record<string, string> = {};
  if (found.username) answer.Username = found.username;
  if (found.secret) answer.Secret = found.secret;
  await context.out(goJsonLine(answer));
};

async function passwordFromStdin(context: Parameters<Action>[0]): Promise<string> {
  const input = await text(context.io.stdin);
  return input.replace(/\n$/, "").replace(/\r$/, "");
}

/** `hoist auth login SERVER -u USER -p PASS | --password-stdin`. */
export const authLogin: Action = async (context, args, options) => {
  const server = args[0] as string;
  const username = (options.username as string | undefined) ?? "";
  let password = (options.password as string | undefined) ?? "";
  if (options.passwordStdin) password = await passwordFromStdin(context);
  if (!username && !password) throw usageError("username and password required", "auth login");
  if (!username) {
    throw usageError(
      `a username is required to log in to ${server}: pass -u USERNAME`,
      "auth login",
    );
  }
  const result = await login(
    server,
    { kind: "basic", username, password },
    { env: context.io.env, signal: context.signal },
  );
  context.log(`logged in via ${result.configPath}`);
};

/** `hoist auth logout SERVER`. */
export const authLogout: Action = async (context, args) => {
  const result = await logout(args[0] as string, { env: context.io.env, signal: context.signal });
  context.log(`logged out via ${result.configPath}`);
};

/** `hoist auth token REPO [-H] [--push] [-m MOUNT]...`: a registry token for curl and friends. */
export const authToken: Action = async (context, args, options) => {
  const repository = Repository.parse(args[0] as string, context.nameOptions);
  const scopes = [repository.scope(options.push ? "push,pull" : "pull")];
  for (const mount of (options.mount as string[] | undefined) ?? []) {
    scopes.push(Repository.parse(mount, context.nameOptions).scope("pull"));
  }
  const transport = await context.transport();
  const token = await transport.exchangeToken({
    registry: repository.registry,
    keychain: await context.keychain(),
    resource: repository,
    scopes,
    signal: context.signal,
  });
  if (!token.token) {
    throw new CliError(`the token service of ${repository.registry.host} returned no token`, {
      code: "HOIST_CLI_NOT_FOUND",
      operation: "auth token",
    });
  }
  if (options.header) {
    await context.out(`Authorization: Bearer ${token.token}`);
    return;
  }
  const body: Record<string, unknown> = { token: token.token };
  if (token.accessToken) body.access_token = token.accessToken;
  body.refresh_token = token.refreshToken ?? "";
  body.expires_in = token.expiresIn ?? 0;
  await context.out(goJsonLine(body));
};
