// Builds the portal into static files: generates the TypeScript client from
// the protos, type-checks, and bundles with esbuild.
//
//   node build.mjs --out <dir>     (index.html, app.js, app.css in <dir>)
//   node build.mjs --out <dir> --no-check   (skip the type check)
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const protoRoot = resolve(here, "../../proto");
const genDir = join(here, "gen");

function parseArgs(argv) {
  const args = { out: null, check: true };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--out") args.out = argv[++i];
    else if (argv[i] === "--no-check") args.check = false;
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!args.out) throw new Error("usage: node build.mjs --out <dir> [--no-check]");
  return args;
}

function protoFiles(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...protoFiles(path));
    else if (name.endsWith(".proto")) found.push(relative(protoRoot, path));
  }
  return found;
}

function run(command, args) {
  const result = spawnSync(command, args, { cwd: here, stdio: "inherit" });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.slice(0, 2).join(" ")} ... exited with ${result.status}`);
  }
}

// The API's messages and services, plus google.rpc.BadRequest for field
// violations. grpc.health is not the portal's business.
function generateClient() {
  rmSync(genDir, { recursive: true, force: true });
  mkdirSync(genDir, { recursive: true });
  const files = [...protoFiles(join(protoRoot, "signoff")), "google/rpc/status.proto"];
  run("protoc", [
    `--proto_path=${protoRoot}`,
    `--plugin=protoc-gen-es=${join(here, "node_modules/.bin/protoc-gen-es")}`,
    `--es_out=${genDir}`,
    "--es_opt=target=ts",
    ...files,
  ]);
}

const args = parseArgs(process.argv.slice(2));
const out = resolve(args.out);
generateClient();
if (args.check) run(process.execPath, [join(here, "node_modules/typescript/lib/tsc.js"), "--noEmit", "-p", here]);
mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: [join(here, "src/main.ts")],
  bundle: true,
  format: "iife",
  target: ["es2020"],
  minify: true,
  sourcemap: "linked",
  outfile: join(out, "app.js"),
  logLevel: "warning",
});
for (const file of ["index.html", "app.css"]) copyFileSync(join(here, "static", file), join(out, file));
console.log(`portal built in ${out}`);
