// A child process that runs @hoist/authn's login against one config file, for the durability
// scenario to kill (started with --import ./fs-stages.mjs). MODE=once logs in once; MODE=loop
// logs in again and again with numbered credentials.
const { login } = await import("@hoist/authn");
const configPath = process.env.CONFIG_PATH;
const server = process.env.SERVER ?? "registry.example";
process.stdout.write("ready\n");
if (process.env.MODE === "loop") {
  for (let i = 1; ; i++) {
    await login(
      server,
      { kind: "basic", username: `user${i}`, password: `password-${i}` },
      { configPath },
    );
    process.stdout.write(`wrote ${i}\n`);
  }
} else {
  await login(
    server,
    { kind: "basic", username: "newuser", password: "new-password" },
    { configPath },
  );
  process.stdout.write("done\n");
}
