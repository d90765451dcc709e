// The server's field violations (google.rpc.BadRequest) show beside the
// fields they name, and nothing is started.
import assert from "node:assert/strict";
import test from "node:test";
import { browserTest, PHONE, ready } from "./harness.mjs";
import { field, fillClaimForm } from "./flows.mjs";

browserTest(test, "field errors from the server appear beside the right fields", "field-errors", async (portal) => {
  const bob = await portal.open("bob.zhang");
  await portal.go(bob, "#/start/dealer-claim");
  await fillClaimForm(bob, {
    dealer_id: "d 1", // lower case and a space: not the pattern
    claim_type: "warranty",
    amount: "-5", // below the minimum of 0
    // region left out: required
    description: "short", // under 10 characters
  });
  await bob.getByRole("button", { name: "Submit" }).click();
  await bob.locator(".field.invalid").first().waitFor();

  const invalid = await bob.locator(".field.invalid").evaluateAll((els) => els.map((el) => el.dataset.field));
  assert.deepEqual(invalid.sort(), ["amount", "dealer_id", "description", "region"]);
  for (const name of invalid) {
    const text = await field(bob, name).locator(".field-error").innerText();
    assert.ok(text.length > 0, `${name} shows its error`);
    // The control says it is invalid and points at its error.
    const control = field(bob, name).locator("input, select, textarea").first();
    assert.equal(await control.getAttribute("aria-invalid"), "true");
    const errorId = await field(bob, name).locator(".field-error").getAttribute("id");
    assert.ok((await control.getAttribute("aria-describedby")).split(" ").includes(errorId));
  }
  assert.match(await field(bob, "region").locator(".field-error").innerText(), /required/);
  assert.match(await field(bob, "dealer_id").locator(".field-error").innerText(), /pattern|match/i);
  for (const name of ["claim_type", "invoice_number", "third_party_check"]) {
    assert.equal(await field(bob, name).locator(".field-error").innerText(), "", `${name} has no error`);
  }
  // The first field in error has the focus, for keyboard users.
  assert.equal(await bob.evaluate(() => document.activeElement?.closest(".field")?.dataset.field), "dealer_id");
  await portal.screenshot(bob, "start-form");
  await bob.setViewportSize(PHONE);
  await portal.screenshot(bob, "start-form-phone");
  await bob.setViewportSize({ width: 1200, height: 900 });

  // Nothing was started.
  const none = await portal.ctl("bob.zhang", "instance", "list", "--applicant", "bob.zhang");
  assert.equal((none.instances ?? []).length, 0);

  // Corrected, the same form starts the claim, and the errors are gone.
  await fillClaimForm(bob, { dealer_id: "D-2002", amount: "300.50", region: "sales-west", description: "Marketing event costs, April" });
  await bob.getByRole("button", { name: "Submit" }).click();
  await bob.waitForURL(/#\/instance\//);
  await ready(bob);
  const listed = await portal.ctl("bob.zhang", "instance", "list", "--applicant", "bob.zhang");
  assert.equal(listed.instances.length, 1);
  assert.equal(listed.instances[0].form.amount, "300.50");
  assert.equal(listed.instances[0].form.region, "sales-west");
});
