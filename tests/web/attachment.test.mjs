// An ATTACHMENT field in the browser: the applicant picks an invoice, the
// portal uploads it in chunks before the claim starts, and the reviewer
// downloads the same bytes from the case page.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import test from "node:test";
import { browserTest, ready } from "./harness.mjs";
import { field, fillClaimForm } from "./flows.mjs";

browserTest(test, "an invoice uploaded with a claim downloads for its reviewer", "attachment", async (portal) => {
  // Larger than a chunk, with every byte value.
  const invoice = Buffer.alloc(300 * 1024, 0);
  for (let i = 0; i < invoice.length; i++) invoice[i] = (i * 31) % 256;

  const bob = await portal.open("bob.zhang");
  await portal.go(bob, "#/start/dealer-claim");
  await fillClaimForm(bob, { dealer_id: "D-4001", claim_type: "warranty", amount: "800", region: "sales-east", description: "Warranty repair, invoice attached" });
  await field(bob, "invoices").locator('input[type="file"]').setInputFiles({ name: "invoice.pdf", mimeType: "application/pdf", buffer: invoice });
  await field(bob, "invoices").locator(".attachment-list li", { hasText: "invoice.pdf" }).waitFor();
  await portal.screenshot(bob, "start-with-invoice");
  await bob.getByRole("button", { name: "Submit" }).click();
  await bob.waitForURL(/#\/instance\//);
  await ready(bob);

  const listed = await portal.ctl("bob.zhang", "instance", "list", "--applicant", "bob.zhang");
  assert.equal(listed.instances.length, 1);
  const [file] = listed.instances[0].form.invoices;
  assert.equal(file.name, "invoice.pdf");
  assert.equal(file.size, invoice.length);
  assert.equal(file.media_type, "application/pdf");

  const tina = await portal.open("tina.luo");
  await portal.go(tina, `#/instance/${listed.instances[0].id}`);
  await ready(tina);
  const button = tina.getByRole("button", { name: "Download invoice.pdf" });
  await portal.screenshot(tina, "case-with-invoice");
  const [download] = await Promise.all([tina.waitForEvent("download"), button.click()]);
  assert.equal(download.suggestedFilename(), "invoice.pdf");
  assert.deepEqual(await readFile(await download.path()), invoice);
});
