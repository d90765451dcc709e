// Steps several browser tests share, each done through the portal the way a
// person would.
import assert from "node:assert/strict";
import { instanceIdOf, ready } from "./harness.mjs";

export const CLAIM = {
  dealer_id: "D-1001",
  claim_type: "warranty",
  amount: "12800.00",
  region: "sales-east",
  description: "Replaced a gearbox under warranty",
};

function field(page, name) {
  return page.locator(`.field[data-field="${name}"]`);
}

// Fills the start form of dealer-claim, found by the fields' labels.
export async function fillClaimForm(page, values) {
  if (values.dealer_id !== undefined) await page.getByLabel("Dealer id").fill(values.dealer_id);
  if (values.claim_type !== undefined) await page.getByLabel("Claim type").selectOption(values.claim_type);
  if (values.amount !== undefined) await page.getByLabel("Amount (CNY)").fill(values.amount);
  if (values.region !== undefined) await page.getByLabel("Region (regional sales department)").selectOption(values.region);
  if (values.description !== undefined) await page.getByLabel("Description").fill(values.description);
}

// The applicant starts a dealer claim from the Start page and lands on the
// new instance's page; resolves to its id.
export async function startClaim(portal, page, values = CLAIM, screenshots = false) {
  await page.getByRole("navigation").getByRole("link", { name: "Start a request" }).click();
  await ready(page);
  if (screenshots) await portal.screenshot(page, "start-list");
  await page.getByRole("link", { name: "Dealer claim" }).click();
  await ready(page);
  await fillClaimForm(page, values);
  if (screenshots) {
    await page.getByRole("button", { name: "Preview route" }).click();
    await page.locator(".preview .route").waitFor();
    await portal.screenshot(page, "start-form");
  }
  await page.getByRole("button", { name: "Submit" }).click();
  await page.waitForURL(/#\/instance\//);
  await ready(page);
  return instanceIdOf(page);
}

// A sampled claim goes on to the quality-control check, which the QC
// inspectors share as a candidate group: one of them claims and completes
// it in the portal. An unsampled claim is finished already.
export async function completeQualityCheckIfSampled(portal, instanceId) {
  const instance = await portal.instance("bob.zhang", instanceId);
  if (instance.status !== "RUNNING") return false;
  assert.deepEqual(instance.active_steps, ["quality-check"]);
  console.log(`${instanceId} was sampled: a QC inspector completes the quality check`);
  const page = await portal.open("uma.deng");
  const row = page.locator(`article.task[data-instance-id="${instanceId}"]`);
  await row.getByRole("button", { name: "Claim" }).click();
  await row.getByRole("link", { name: "Open" }).click();
  await ready(page);
  await page.getByRole("button", { name: "Complete" }).click();
  await page.getByLabel("QC verdict").selectOption("pass");
  await page.getByLabel("Comment").fill("Sample checked: documents in order");
  await page.getByRole("button", { name: "Confirm: Complete" }).click();
  await page.locator(".notice").waitFor();
  await page.context().close();
  return true;
}

export { field };
