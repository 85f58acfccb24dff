// Removes a package's dist/ before tsc writes it, so files deleted from src/ never linger in a build.
import { rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
