// On a server that verifies bearer tokens (--auth=jwt), the portal signs in
// with a pasted token and calls the API with it; a token the server does
// not trust is refused at the sign-in.
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "node:test";
import { browserTest, ready, signoffd } from "./harness.mjs";
import { CLAIM, startClaim } from "./flows.mjs";

const ISSUER = "https://id.signoff.example";
const AUDIENCE = "signoff";

function newKeyFile(dir, name) {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const path = join(dir, name);
  writeFileSync(path, privateKey.export({ type: "pkcs8", format: "pem" }));
  return path;
}

const keys = mkdtempSync(join(tmpdir(), "signoff-web-jwt-"));
test.after(() => rmSync(keys, { recursive: true, force: true }));
const trusted = newKeyFile(keys, "trusted.pem");
const untrusted = newKeyFile(keys, "untrusted.pem");
writeFileSync(join(keys, "jwks.json"), await signoffd("dev-jwks", "--key", trusted, "--kid", "trial"));
const tokenOf = (key, user) =>
  signoffd("dev-token", "--key", key, "--kid", "trial", "--user", user, "--issuer", ISSUER, "--audience", AUDIENCE, "--ttl", "10m");

browserTest(
  test,
  "a bearer token signs in, and the portal's calls carry it",
  "jwt",
  async (portal) => {
    const page = await portal.open(null);
    await portal.go(page, "#/signin");

    // A token signed with a key the server does not know is refused.
    await page.getByRole("textbox", { name: "Token" }).fill(await tokenOf(untrusted, "bob.zhang"));
    await page.getByRole("button", { name: "Sign in with token" }).click();
    await page.locator(".error").waitFor();
    assert.match(await page.locator(".error").innerText(), /Not signed in, or unknown user/);
    assert.equal(await page.locator(".me").count(), 0);

    const token = await tokenOf(trusted, "bob.zhang");
    await page.getByRole("textbox", { name: "Token" }).fill(token);
    await page.getByRole("button", { name: "Sign in with token" }).click();
    await page.locator('.me[data-user="bob.zhang"]').waitFor();
    await ready(page);
    await portal.screenshot(page, "inbox");

    // A change made with the token is bob's.
    const id = await startClaim(portal, page, CLAIM);
    const instance = (await portal.ctl({ token }, "instance", "get", id)).instance;
    assert.equal(instance.applicant, "bob.zhang");
    assert.equal(instance.status, "RUNNING");
  },
  {
    serverArgs: ["--auth=jwt", "--jwks-file", join(keys, "jwks.json"), "--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE],
  },
);
