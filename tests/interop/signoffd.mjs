// Starts a real signoffd for a test: a fresh SQLite database, the demo
// organisation and shipped definitions, gRPC and HTTP on free loopback
// ports. Stops it when the test is done.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export async function startSignoffd({ binary, sourceDir, extraArgs = [] }) {
  const dir = mkdtempSync(join(tmpdir(), "signoff-interop-"));
  const child = spawn(
    binary,
    [
      "serve",
      "--db", join(dir, "signoff.db"),
      "--listen", "127.0.0.1:0",
      "--http-listen", "127.0.0.1:0",
      "--directory", join(sourceDir, "workflow/definitions/demo-org.yaml"),
      "--definitions", join(sourceDir, "workflow/definitions"),
      "--timer-poll", "0s",
      ...extraArgs,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr = (stderr + chunk).slice(-20000);
  });
  const ports = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`signoffd did not start:\n${stderr}`)), 30000);
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const grpc = /signoffd listening on \S+ \(port (\d+)\)/.exec(out);
      const http = /signoffd serving HTTP on \S+ \(port (\d+)\)/.exec(out);
      if (grpc && http) {
        clearTimeout(timer);
        resolve({ grpc: Number(grpc[1]), http: Number(http[1]) });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`signoffd exited with ${code}:\n${stderr}`));
    });
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  return {
    ...ports,
    baseUrl: `http://127.0.0.1:${ports.http}`,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.removeAllListeners("exit");
      const exited = new Promise((resolve) => child.on("exit", resolve));
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
