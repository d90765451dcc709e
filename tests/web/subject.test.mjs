// Filing on someone's behalf: an HR business partner starts a probation
// review whose subject (the employee field) is an employee. The start form
// says it is filed on the employee's behalf; the case page shows who filed
// it and whom it is about; the employee finds it under "About me" in My
// requests, not among the requests they filed.
import assert from "node:assert/strict";
import test from "node:test";
import { browserTest, instanceIdOf, ready } from "./harness.mjs";

browserTest(test, "a review filed on an employee's behalf shows its filer and subject", "subject", async (portal) => {
  const amy = await portal.open("amy.song");
  await portal.go(amy, "#/start/probation-review");
  const employee = amy.locator('.field[data-field="employee"]');
  assert.match(await employee.locator(".subject-hint").innerText(), /employee this request is about/);
  await amy.getByLabel("Employee").fill("fiona.yang");
  await amy.getByLabel("Grade").selectOption("P5");
  assert.equal(await employee.locator(".on-behalf").innerText(), "You are filing this on behalf of Fiona Yang.");
  await amy.getByLabel("Probation end date").fill("2026-03-31");
  await amy.getByLabel("Self-assessment").fill("Met every probation goal, two of them early.");
  await amy.getByLabel("Recommendation").selectOption("confirm");
  await portal.screenshot(amy, "start-form");
  await amy.getByRole("button", { name: "Submit" }).click();
  await amy.waitForURL(/#\/instance\//);
  await ready(amy);
  const id = instanceIdOf(amy);

  // The server recorded it as filed for her.
  const started = await portal.instance("amy.song", id);
  assert.equal(started.filed_for, "fiona.yang");
  assert.equal(started.subject, "fiona.yang");

  const summary = amy.locator(".case dl.summary");
  const term = async (label) => summary.locator(`dt:text-is("${label}") + dd`).innerText();
  assert.match(await term("Filed by"), /Amy Song/);
  assert.equal(await summary.locator(".subject").getAttribute("data-subject"), "fiona.yang");
  const subject = await term("Subject (employee)");
  assert.match(subject, /Fiona Yang/);
  assert.match(subject, /Filed on behalf of Fiona Yang/);
  await portal.screenshot(amy, "case-filer");

  // The employee files a claim of her own, which is not about her. The
  // review is not among what she filed, but under "About me" (and the
  // claim is not).
  const claim = (await portal.ctl(
    "fiona.yang", "instance", "start", "dealer-claim",
    "--form", "dealer_id=D-3003", "--form", "claim_type=warranty", "--form", "amount=500",
    "--form", "region=sales-west", "--form", "description=Warranty repair of one vehicle",
  )).instance.id;
  const fiona = await portal.open("fiona.yang");
  await fiona.getByRole("navigation").getByRole("link", { name: "My requests" }).click();
  await ready(fiona);
  const row = fiona.locator(`article.request[data-instance-id="${id}"]`);
  const claimRow = fiona.locator(`article.request[data-instance-id="${claim}"]`);
  await claimRow.waitFor();
  assert.equal(await row.count(), 0);
  await fiona.getByRole("radio", { name: "About me" }).check();
  await row.waitFor();
  assert.equal(await claimRow.count(), 0);
  assert.match(await row.innerText(), /probation-review · fiona\.yang/);
  assert.match(await row.innerText(), /Filed by: Amy Song/);
  await portal.screenshot(fiona, "about-me");

  await row.getByRole("link", { name: /probation-review · fiona\.yang/ }).click();
  await ready(fiona);
  assert.equal(instanceIdOf(fiona), id);
  assert.match(await fiona.locator(".case dl.summary .subject").innerText(), /Fiona Yang[\s\S]*Filed on behalf of Fiona Yang/);
  await portal.screenshot(fiona, "case-subject");
  // Someone who files for themselves is told so, and no one else is named.
  await portal.go(fiona, "#/start/probation-review");
  await fiona.getByLabel("Employee").fill("fiona.yang");
  await fiona.getByLabel("Employee").dispatchEvent("change");
  assert.equal(await fiona.locator('.field[data-field="employee"] .on-behalf').innerText(), "You are filing this for yourself.");
  await portal.screenshot(fiona, "start-self");
});
