import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const exec = promisify(execFile);
const demo = join(dirname(fileURLToPath(import.meta.url)), "../dist/demo.js");

it("the demo runs the whole round trip on loopback and verifies it", {
  timeout: 120_000,
}, async () => {
  const { stdout } = await exec(process.execPath, [demo], {
    env: { ...process.env, NO_COLOR: "1" },
  });
  expect(stdout).toMatch(/an embedded registry at http:\/\/127\.0\.0\.1:\d+/);
  expect(stdout).toMatch(
    /\$ hoist push .*image-layout 127\.0\.0\.1:\d+\/demo\/app:v1\n127\.0\.0\.1:\d+\/demo\/app@sha256:[0-9a-f]{64}\n/,
  );
  expect(stdout).toMatch(
    /registry log of the copies: \d+ blobs mounted \(201 Created\), 0 blob upload requests/,
  );
  expect(stdout).toContain("$ hoist ls");
  expect(stdout).toMatch(/\nstable\nv1\n/);
  expect(stdout).toMatch(/every digest verified; index digest matches the registry's/);
  expect(stdout).toContain("registry stopped; temporary files removed");
  // Seeded content: the same digests on every run and every machine.
  expect(stdout).toContain(
    "/demo/app@sha256:ea0d34b5f260393cfbaba5635f740c862329ed2f1bbc966ec324e5b1f6c4d74d",
  );
  expect(stdout).toContain(
    "/demo/multi@sha256:425bb4356df25f406e20e2b07d0b6433ab54ba6c4272749186eaecad3d54175a",
  );
});
