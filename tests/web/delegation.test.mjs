// Standing delegation in the portal: a claims reviewer going away sets a
// delegation to a colleague (after the server has turned down a bad one,
// its violations beside the fields); a new claim's review lands in the
// colleague's inbox marked as on her behalf; she removes it and the next
// claim comes to her again. A workflow admin sets and removes one for
// someone else.
import assert from "node:assert/strict";
import test from "node:test";
import { assertControlsLabelled, browserTest, ready } from "./harness.mjs";

// "YYYY-MM-DDTHH:MM" in the page's time zone, `hours` from now, as a
// datetime-local input takes it.
function localTime(page, hours) {
  return page.evaluate((offset) => {
    const date = new Date(Date.now() + offset * 3600_000);
    const pad = (n) => String(n).padStart(2, "0");
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
  }, hours);
}

async function startClaim(portal, dealer) {
  const started = await portal.ctl(
    "bob.zhang", "instance", "start", "dealer-claim",
    "--form", `dealer_id=${dealer}`, "--form", "claim_type=warranty", "--form", "amount=900",
    "--form", "region=sales-east", "--form", "description=Warranty repair of one vehicle",
  );
  return started.instance.id;
}

function field(page, name) {
  return page.locator(`form.set-delegation .field[data-field="${name}"]`);
}

browserTest(test, "a delegation set in the portal sends new tasks to the delegate on the delegator's behalf", "delegation", async (portal) => {
  const tina = await portal.open("tina.luo");
  await tina.getByRole("navigation").getByRole("link", { name: "Delegations" }).click();
  await ready(tina);
  assert.equal(await tina.locator("table.delegations").count(), 0, "nothing given or received yet");
  // Only workflow admins name a delegator.
  assert.equal(await field(tina, "delegator").count(), 0);

  // An unknown delegate and a range that ends before it starts: the
  // server's violations appear beside those two fields, nothing is set.
  await field(tina, "delegate").locator("input").fill("no.such.person");
  await tina.getByLabel("From").fill(await localTime(tina, 48));
  await tina.getByLabel("Until").fill(await localTime(tina, 24));
  await tina.getByRole("button", { name: "Set delegation" }).click();
  await field(tina, "ends_at").locator(".field-error:not(:empty)").waitFor();
  assert.match(await field(tina, "ends_at").locator(".field-error").innerText(), /after starts_at/);
  assert.match(await field(tina, "delegate").locator(".field-error").innerText(), /unknown user 'no.such.person'/);
  assert.equal(await tina.getByLabel("Until").getAttribute("aria-invalid"), "true");
  assert.equal(await field(tina, "starts_at").locator(".field-error").innerText(), "");
  assert.match(await tina.locator("form.set-delegation .error[role=alert]").innerText(), /Please check the input\.[\s\S]*2 problem/);
  // The first field in error has the focus.
  assert.equal(await tina.evaluate(() => document.activeElement?.closest(".field")?.dataset.field), "delegate");
  await portal.screenshot(tina, "invalid");
  assert.equal(((await portal.ctl("tina.luo", "delegation", "list")).delegations ?? []).length, 0);
  await assertControlsLabelled(tina, "delegations page");

  // Corrected: from an hour ago until tomorrow, for dealer claims only.
  await field(tina, "delegate").locator("input").fill("sam.qian");
  await tina.getByLabel("From").fill(await localTime(tina, -1));
  await tina.getByLabel("Until").fill(await localTime(tina, 24));
  await tina.getByLabel("Process").selectOption("dealer-claim");
  await tina.getByLabel("Comment").fill("Annual leave");
  await tina.getByRole("button", { name: "Set delegation" }).click();
  await tina.locator(".notice").filter({ hasText: "Delegation to Sam Qian saved." }).waitFor();
  const given = tina.locator('table[data-list="given"] tbody tr');
  assert.equal(await given.count(), 1);
  assert.equal(await given.first().getAttribute("data-delegate"), "sam.qian");
  assert.match(await given.first().innerText(), /Sam Qian[\s\S]*dealer-claim[\s\S]*Annual leave[\s\S]*In effect/);
  await portal.screenshot(tina, "given");
  const [stored] = (await portal.ctl("tina.luo", "delegation", "list")).delegations;
  assert.equal(stored.delegate, "sam.qian");
  assert.deepEqual(stored.definition_keys, ["dealer-claim"]);

  // The delegate sees it as received, with no way to remove it.
  const sam = await portal.open("sam.qian");
  await portal.go(sam, "#/delegations");
  const received = sam.locator('table[data-list="received"] tbody tr');
  assert.equal(await received.count(), 1);
  assert.match(await received.first().innerText(), /Tina Luo/);
  assert.equal(await received.first().getByRole("button").count(), 0);

  // A new claim: Tina's review goes to Sam, marked on her behalf.
  const first = await startClaim(portal, "D-5001");
  await portal.go(sam, "#/inbox");
  const task = sam.locator(`article.task[data-instance-id="${first}"]`);
  await task.waitFor();
  assert.match(await task.locator(".delegated").innerText(), /on behalf of Tina Luo/);
  await portal.screenshot(sam, "inbox");
  const pending = (await portal.instance("bob.zhang", first)).pending_tasks;
  assert.ok(pending.some((one) => one.assignee === "sam.qian" && one.delegated_from === "tina.luo"), JSON.stringify(pending));
  assert.ok(!pending.some((one) => one.assignee === "tina.luo"));

  // Tina removes it; the next claim comes to her again.
  await portal.go(tina, "#/delegations");
  await given.first().getByRole("button", { name: /Remove the delegation to Sam Qian/ }).click();
  await tina.locator(".notice").filter({ hasText: "The delegation to Sam Qian was removed." }).waitFor();
  assert.equal(await given.count(), 0);
  assert.equal(((await portal.ctl("tina.luo", "delegation", "list")).delegations ?? []).length, 0);
  const second = await startClaim(portal, "D-5002");
  const after = (await portal.instance("bob.zhang", second)).pending_tasks;
  assert.ok(after.some((one) => one.assignee === "tina.luo" && !one.delegated_from), JSON.stringify(after));
});

browserTest(test, "a workflow admin sets and removes a delegation for someone else", "delegating-admin", async (portal) => {
  const carl = await portal.open("carl.yuan");
  await portal.go(carl, "#/delegations");
  await field(carl, "delegator").locator("input").fill("tony.hu");
  await field(carl, "delegate").locator("input").fill("tina.luo");
  await carl.getByRole("button", { name: "Set delegation" }).click();
  await carl.locator(".notice").waitFor();
  const others = carl.locator('table[data-list="others"] tbody tr');
  assert.equal(await others.count(), 1);
  assert.equal(await others.first().getAttribute("data-delegator"), "tony.hu");
  await portal.screenshot(carl, "others");
  const listed = (await portal.ctl("tony.hu", "delegation", "list")).delegations;
  assert.equal(listed.length, 1);
  assert.equal(listed[0].created_by, "carl.yuan");

  // Someone else's delegation is not Tina's to remove: she only receives it.
  const tina = await portal.open("tina.luo");
  await portal.go(tina, "#/delegations");
  assert.equal(await tina.locator('table[data-list="received"] tbody tr').count(), 1);
  assert.equal(await tina.locator("table.delegations").getByRole("button").count(), 0);

  await others.first().getByRole("button", { name: /Remove/ }).click();
  await carl.locator(".notice").filter({ hasText: "removed" }).waitFor();
  assert.equal(await others.count(), 0);
});
