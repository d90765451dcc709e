// What every browser test needs: a signoffd of its own (a temporary
// database, loopback ports chosen by the system, the demo organisation and
// the shipped definitions), Debian's Chromium driven by playwright-core,
// screenshots, and signoffctl to check outcomes over native gRPC.
//
// CTest sets: SIGNOFFD, SIGNOFFCTL, SIGNOFF_WEB_ROOT (the built portal),
// SIGNOFF_SOURCE_DIR, SIGNOFF_SCREENSHOT_DIR, and optionally CHROMIUM.
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { chromium } from "playwright-core";

const run = promisify(execFile);

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (the tests run under CTest, which sets it)`);
  return value;
}

const START_TIMEOUT_MS = 30_000;

// Starts signoffd and waits for both of its listeners. Resolves to the
// HTTP URL of the portal and the gRPC address.
async function startSignoffd(dataDir, extraArgs) {
  const source = required("SIGNOFF_SOURCE_DIR");
  const webRoot = required("SIGNOFF_WEB_ROOT");
  if (!existsSync(join(webRoot, "index.html"))) {
    throw new Error(`no portal in ${webRoot}: build it first (make web)`);
  }
  const child = spawn(
    required("SIGNOFFD"),
    [
      "serve",
      "--db", join(dataDir, "signoff.db"),
      "--listen", "127.0.0.1:0",
      "--http-listen", "127.0.0.1:0",
      "--web-root", webRoot,
      "--directory", join(source, "workflow/definitions/demo-org.yaml"),
      "--definitions", join(source, "workflow/definitions"),
      "--synchronous", "NORMAL",
      ...extraArgs,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const collect = (chunk) => {
    output += chunk;
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  const ports = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`signoffd did not name both ports in time:\n${output}`)), START_TIMEOUT_MS);
    const check = () => {
      const grpc = /signoffd listening on \S+ \(port (\d+)\)/.exec(output);
      const http = /signoffd serving HTTP on \S+ \(port (\d+)\)/.exec(output);
      if (grpc && http) {
        clearTimeout(timer);
        resolve({ grpc: Number(grpc[1]), http: Number(http[1]) });
      }
    };
    child.stdout.on("data", check);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`signoffd exited with ${code} before serving:\n${output}`));
    });
  });
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return { url: `http://127.0.0.1:${ports.http}/`, grpcAddress: `127.0.0.1:${ports.grpc}`, stop, log: () => output };
}

async function launchChromium() {
  // launch() gives the browser a fresh profile (its own --user-data-dir in
  // a temporary folder) and removes it on close.
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export const PHONE = { width: 375, height: 740 };
const DESKTOP = { width: 1200, height: 900 };

// One portal under test. `name` prefixes its screenshots (so it must not
// begin with another test's name and a dash: that test's start would
// remove them); `serverArgs` go to signoffd serve.
export async function startPortal(t, name, { serverArgs = [] } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "signoff-web-test-"));
  const screenshotDir = required("SIGNOFF_SCREENSHOT_DIR");
  mkdirSync(screenshotDir, { recursive: true });
  // This test's screenshots from an earlier run (failure ones included)
  // would mislead: they go before it starts.
  for (const file of readdirSync(screenshotDir)) {
    if (file.startsWith(`${name}-`) && file.endsWith(".png")) rmSync(join(screenshotDir, file), { force: true });
  }
  const server = await startSignoffd(dataDir, serverArgs);
  const browser = await launchChromium();
  const pages = new Set();

  const portal = {
    url: server.url,
    grpcAddress: server.grpcAddress,

    // A browser context of its own for one person: their own local storage,
    // so that two people can be signed in side by side.
    async open(user, options = {}) {
      const context = await browser.newContext({
        viewport: options.viewport ?? DESKTOP,
        locale: options.locale ?? "en-GB",
        timezoneId: options.timezoneId ?? "Asia/Shanghai",
      });
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      page.on("pageerror", (error) => console.error(`[${user}] page error: ${error.message}`));
      pages.add(page);
      if (user) await portal.signIn(page, user);
      return page;
    },

    async signIn(page, user) {
      await page.goto(`${server.url}#/signin`);
      await ready(page);
      await page.getByLabel(/^(User id|用户 ID)$/).fill(user);
      await page.locator("form").filter({ has: page.getByLabel(/^(User id|用户 ID)$/) }).locator("button[type=submit]").click();
      await page.locator(`.me[data-user="${user}"]`).waitFor();
      await ready(page);
    },

    // Opens a page of the portal afresh, as a bookmark or a link from a
    // mail would (also when the browser shows that page already).
    async go(page, hash) {
      const target = `${server.url}${hash}`;
      if (page.url() === target) await page.reload();
      else await page.goto(target);
      await ready(page);
    },

    async screenshot(page, shot) {
      const path = join(screenshotDir, `${name}-${shot}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },

    // signoffctl over native gRPC as `who` (a user id, sent as the dev
    // header, or { token }), with JSON output; resolves to the parsed
    // reply, or rejects with the exit code and message.
    async ctl(who, ...args) {
      const identity = typeof who === "string" ? ["--as", who] : ["--token", who.token];
      const user = typeof who === "string" ? who : "a token";
      try {
        const { stdout } = await run(required("SIGNOFFCTL"), ["--address", server.grpcAddress, ...identity, "-o", "json", ...args]);
        return stdout.trim() ? JSON.parse(stdout) : null;
      } catch (error) {
        const failure = new Error(`signoffctl ${args.join(" ")} as ${user}: exit ${error.code}: ${error.stderr}`);
        failure.exitCode = error.code;
        throw failure;
      }
    },

    async instance(user, id) {
      return (await portal.ctl(user, "instance", "get", id)).instance;
    },
  };

  t.after(async () => {
    try {
      if (portal.failed) {
        let n = 0;
        for (const page of pages) {
          n += 1;
          await page.screenshot({ path: join(screenshotDir, `${name}-failure-${n}.png`), fullPage: true }).catch(() => undefined);
        }
      }
    } finally {
      await browser.close().catch(() => undefined);
      await server.stop();
      if (portal.failed) console.error(`signoffd output:\n${server.log()}`);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
  return portal;
}

// Runs a test body (given the portal and the test's context, for
// subtests); on failure the portal's pages are captured before the
// browser closes.
export function browserTest(test, title, name, body, options = {}) {
  test(title, { timeout: 120_000 }, async (t) => {
    const portal = await startPortal(t, name, options);
    try {
      await body(portal, t);
    } catch (error) {
      portal.failed = true;
      throw error;
    }
  });
}

// The portal marks #app data-ready once a page has rendered (not while it
// shows "Loading").
export async function ready(page) {
  await page.locator('#app[data-ready="true"]').waitFor();
}

// The id in a #/instance/<id> URL.
export function instanceIdOf(page) {
  const match = /#\/instance\/([^/?]+)/.exec(page.url());
  if (!match) throw new Error(`not on an instance page: ${page.url()}`);
  return decodeURIComponent(match[1]);
}

// signoffd's own subcommands (dev-jwks, dev-token), with their output.
export async function signoffd(...args) {
  const { stdout } = await run(required("SIGNOFFD"), args);
  return stdout.trim();
}

// Polls `probe` until it returns a truthy value.
export async function eventually(probe, what, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    last = await probe();
    if (last) return last;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}; last saw ${JSON.stringify(last)}`);
}

const CONTROL_ROLES = new Set([
  "button", "link", "textbox", "searchbox", "combobox", "listbox", "checkbox", "radio",
  "switch", "spinbutton", "slider", "menuitem", "tab",
]);

// The page's controls as Chromium's accessibility tree names them: every
// focusable thing a person operates, with its role and computed name.
// Resolves to { controls, unnamed }, each a list of "role: name" (the
// unnamed ones with their element's tag and attributes, to find them).
export async function accessibleControls(page) {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = await cdp.send("Accessibility.getFullAXTree");
    const controls = [];
    const unnamed = [];
    for (const node of nodes) {
      const role = node.role?.value;
      if (node.ignored || !CONTROL_ROLES.has(role)) continue;
      const name = String(node.name?.value ?? "").trim();
      if (name) {
        controls.push(`${role}: ${name}`);
        continue;
      }
      let element = "?";
      if (node.backendDOMNodeId) {
        const { node: dom } = await cdp.send("DOM.describeNode", { backendNodeId: node.backendDOMNodeId });
        element = `<${dom.localName} ${(dom.attributes ?? []).join(" ")}>`;
      }
      unnamed.push(`${role}: ${element}`);
    }
    return { controls, unnamed };
  } finally {
    await cdp.detach();
  }
}

// Asserts that the page has controls and that each has an accessible
// name; resolves to their "role: name" list.
export async function assertControlsLabelled(page, what) {
  const { controls, unnamed } = await accessibleControls(page);
  if (controls.length === 0) throw new Error(`${what}: no controls found in the accessibility tree`);
  if (unnamed.length) throw new Error(`${what}: controls without an accessible name:\n  ${unnamed.join("\n  ")}`);
  return controls;
}

// Presses Tab (at most `limit` times) until the focus is on an element
// that `matches(arg)` accepts (a function run in the page, which finds
// the element as document.activeElement); resolves to the number of
// presses.
export async function tabTo(page, what, matches, arg, limit = 80) {
  for (let presses = 1; presses <= limit; presses++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(matches, arg)) return presses;
  }
  throw new Error(`${what} not reached with ${limit} presses of Tab`);
}
