// An applicant starts a dealer claim; the claims reviewer approves it from
// the inbox; the applicant sees it finished.
import assert from "node:assert/strict";
import test from "node:test";
import { browserTest, eventually, PHONE, ready } from "./harness.mjs";
import { CLAIM, completeQualityCheckIfSampled, startClaim } from "./flows.mjs";

browserTest(test, "a dealer claim is started, approved from the inbox, and seen finished", "approve", async (portal) => {
  // bob.zhang, a sales rep, files the claim.
  const bob = await portal.open(null);
  await portal.go(bob, "#/signin");
  await portal.screenshot(bob, "signin");
  await portal.signIn(bob, "bob.zhang");
  const id = await startClaim(portal, bob, CLAIM, true);
  await portal.screenshot(bob, "instance-started");

  const started = await portal.instance("bob.zhang", id);
  assert.equal(started.status, "RUNNING");
  assert.equal(started.applicant, "bob.zhang");
  assert.equal(started.form.amount, "12800.00");
  assert.equal(started.form.dealer_id, "D-1001");
  assert.deepEqual(started.active_steps, ["claim-review"]);
  const reviewTask = started.pending_tasks.find((task) => task.assignee === "tina.luo");
  assert.ok(reviewTask, "tina.luo has the claim-review task");

  // tina.luo, a claims reviewer, finds it in her inbox, with its due time.
  const tina = await portal.open("tina.luo");
  const row = tina.locator(`article.task[data-task-id="${reviewTask.id}"]`);
  await row.waitFor();
  assert.match(await row.innerText(), /Claims review — dealer-claim/);
  // The due time shows in the reader's zone (the browser's, Asia/Shanghai).
  assert.ok(reviewTask.due_at, "claim-review has an SLA");
  const due = row.locator(".badges time");
  assert.equal(new Date(await due.getAttribute("datetime")).getTime(), new Date(reviewTask.due_at).getTime());
  const localDue = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: "Asia/Shanghai" }).format(new Date(reviewTask.due_at));
  assert.match(await due.innerText(), new RegExp(`${localDue} GMT\\+8`));
  await portal.screenshot(tina, "inbox");
  // The same inbox at phone width.
  await tina.setViewportSize(PHONE);
  await portal.screenshot(tina, "inbox-phone");
  await tina.setViewportSize({ width: 1200, height: 900 });

  // ...and approves it from there, with the bulk approve.
  await row.getByRole("checkbox").check();
  await tina.getByRole("button", { name: "Approve selected (1)" }).click();
  await tina.getByText("1 approved.").waitFor();
  await tina.locator(`article.task[data-task-id="${reviewTask.id}"]`).waitFor({ state: "detached" });

  const reviewed = await portal.ctl("tina.luo", "task", "get", reviewTask.id);
  assert.equal(reviewed.task.status, "DONE");
  assert.equal(reviewed.task.decision, "APPROVE");

  await completeQualityCheckIfSampled(portal, id);
  const finished = await portal.instance("bob.zhang", id);
  assert.equal(finished.status, "APPROVED");

  // bob sees it finished, in his requests and on its page.
  await bob.getByRole("navigation").getByRole("link", { name: "My requests" }).click();
  await ready(bob);
  const request = bob.locator(`article.request[data-instance-id="${id}"]`);
  await eventually(async () => (await request.getAttribute("data-status")) === "APPROVED", "the request listed as approved");
  assert.match(await request.innerText(), /Approved/);
  await portal.screenshot(bob, "requests");
  await request.getByRole("link", { name: /dealer-claim · D-1001/ }).click();
  await ready(bob);
  assert.equal(await bob.locator(".case").getAttribute("data-status"), "APPROVED");
  assert.match(await bob.locator(".chain").innerText(), /Hash chain verified/);
  assert.match(await bob.locator(".route.so-far").innerText(), /Claims review[\s\S]*Tina Luo[\s\S]*chosen by role:claims-reviewer@sales-ops[\s\S]*Approve/);
  await portal.screenshot(bob, "instance-finished");

  const history = await portal.ctl("bob.zhang", "instance", "history", id);
  assert.equal(history.chain_verified, true);
});
