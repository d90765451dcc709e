// Ledgers in the portal: after one loyalty scheme has consumed part of the
// quarter's budget and another holds a reservation, the process admin
// reads the balance with its usage bar, is told beside the fields what the
// server refuses, and sets a new limit; an auditor reads the balance but
// sets nothing; a product owner has no Ledgers entry and is refused when
// opening the page directly.
import assert from "node:assert/strict";
import test from "node:test";
import { PHONE, assertControlsLabelled, browserTest, ready } from "./harness.mjs";

async function startScheme(portal, name, budget, ratio) {
  const started = await portal.ctl(
    "mia.xu", "instance", "start", "loyalty-scheme",
    "--form", `scheme_name=${name}`, "--form", `budget=${budget}`, "--form", `pnl_ratio=${ratio}`,
    "--form", "description=Double points on weekend dining",
  );
  return started.instance.id;
}

// The department head approves the scheme review, which reserves the budget.
async function approveReview(portal, id) {
  const [task] = (await portal.instance("mia.xu", id)).pending_tasks;
  assert.equal(task.assignee, "rachel.feng");
  await portal.ctl("rachel.feng", "task", "approve", task.id);
}

function field(page, name) {
  return page.locator(`form.set-limit .field[data-field="${name}"]`);
}

browserTest(test, "process admins read and limit a ledger; others are refused", "ledger", async (portal) => {
  // Small and profitable: approved at once, consuming 150,000. Large: on
  // to finance, holding 600,000.
  const small = await startScheme(portal, "Weekend dining", "150000", "2.0");
  await approveReview(portal, small);
  assert.equal((await portal.instance("mia.xu", small)).status, "APPROVED");
  const large = await startScheme(portal, "Travel miles", "600000", "1.3");
  await approveReview(portal, large);
  assert.deepEqual((await portal.instance("mia.xu", large)).active_steps, ["finance-review"]);

  const lena = await portal.open("lena.bai");
  await lena.getByRole("navigation").getByRole("link", { name: "Ledgers" }).click();
  await ready(lena);
  await portal.go(lena, "#/ledgers/loyalty-scheme");
  assert.equal(await lena.getByLabel("Process", { exact: true }).inputValue(), "loyalty-scheme");
  const row = lena.locator('.ledger-balances tr[data-ledger="loyalty-budget"]');
  assert.equal(await row.count(), 1);
  const period = await row.getAttribute("data-period");
  assert.match(period, /^\d{4}-Q[1-4]$/);
  const cell = (name) => row.locator(`td.${name}`).innerText();
  assert.equal(await cell("limit"), "1,000,000 CNY");
  assert.equal(await cell("reserved"), "600,000 CNY");
  assert.equal(await cell("consumed"), "150,000 CNY");
  assert.equal(await cell("remaining"), "250,000 CNY");
  const bar = row.locator(".usage");
  assert.equal(await bar.getAttribute("data-percent"), "75");
  assert.equal(await bar.getAttribute("aria-label"), "75% used: 150,000 CNY consumed and 600,000 CNY reserved of 1,000,000 CNY");
  await portal.screenshot(lena, "balances");
  await assertControlsLabelled(lena, "ledgers page");

  // A period the ledger does not keep, then a negative limit: each refused
  // beside its field.
  await row.getByRole("button", { name: `Change the limit of loyalty-budget for ${period}` }).click();
  assert.equal(await lena.getByLabel("Period", { exact: true }).inputValue(), period);
  assert.equal(await lena.evaluate(() => document.activeElement?.closest(".field")?.dataset.field), "limit");
  await lena.getByLabel("Period", { exact: true }).fill("2026-13");
  await lena.getByRole("button", { name: "Set limit" }).click();
  await field(lena, "period").locator(".field-error:not(:empty)").waitFor();
  assert.equal(await lena.getByLabel("Period", { exact: true }).getAttribute("aria-invalid"), "true");
  await lena.getByLabel("Period", { exact: true }).fill(period);
  await field(lena, "limit").locator("input").fill("-5");
  await lena.getByRole("button", { name: "Set limit" }).click();
  await field(lena, "limit").locator(".field-error:not(:empty)").waitFor();
  assert.match(await field(lena, "limit").locator(".field-error").innerText(), /non-negative/);
  assert.equal(await field(lena, "period").locator(".field-error").innerText(), "");
  await portal.screenshot(lena, "limit-invalid");

  await field(lena, "limit").locator("input").fill("800000");
  await lena.getByRole("button", { name: "Set limit" }).click();
  await lena.locator(".notice").filter({ hasText: `The limit of loyalty-budget for ${period} is now 800,000 CNY.` }).waitFor();
  assert.equal(await cell("limit"), "800,000 CNY");
  assert.equal(await cell("remaining"), "50,000 CNY");
  assert.equal(await bar.getAttribute("data-percent"), "94");
  await portal.screenshot(lena, "limit-set");
  const stored = await portal.ctl("lena.bai", "ledger", "get", "loyalty-scheme", "loyalty-budget");
  assert.equal(stored.balance.limit, 800000);

  // An auditor reads the balances but is offered no limit to set.
  const olivia = await portal.open("olivia.ke");
  await olivia.getByRole("navigation").getByRole("link", { name: "Ledgers" }).waitFor();
  await portal.go(olivia, "#/ledgers/loyalty-scheme");
  assert.equal(await olivia.locator('.ledger-balances tr[data-ledger="loyalty-budget"] td.limit').innerText(), "800,000 CNY");
  assert.equal(await olivia.locator("form.set-limit").count(), 0);
  // The same in Chinese on a phone, with nothing wider than the screen.
  const phone = await portal.open("olivia.ke", { viewport: PHONE, locale: "zh-CN" });
  await phone.getByRole("navigation").getByRole("link", { name: "台账" }).click();
  await ready(phone);
  await portal.go(phone, "#/ledgers/loyalty-scheme");
  assert.equal(await phone.locator("h1").innerText(), "台账");
  assert.match(await phone.locator('.ledger-balances tr[data-ledger="loyalty-budget"] .usage').getAttribute("aria-label"), /^已使用 94%/);
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone`);
  await portal.screenshot(phone, "auditor-phone");

  // The product owner: no Ledgers entry; opened directly, the server's
  // refusal is shown.
  const mia = await portal.open("mia.xu");
  assert.equal(await mia.getByRole("navigation").getByRole("link", { name: "Ledgers" }).count(), 0);
  await portal.go(mia, "#/ledgers/loyalty-scheme");
  const denied = mia.locator('.ledger-balances[data-state="denied"] [role=alert]');
  assert.match(await denied.innerText(), /You may not read this process's ledgers\.[\s\S]*process-admin/);
  assert.equal(await mia.locator("table").count(), 0);
  await portal.screenshot(mia, "denied");
});
