// A claims reviewer rejects a claim with a reason code; the applicant, at
// phone width, finds it in My requests and appeals within the window; the
// appeal's parallel verifications reach Finance and Legal, whose people
// find them in their inboxes.
import assert from "node:assert/strict";
import test from "node:test";
import { browserTest, PHONE, ready } from "./harness.mjs";

browserTest(test, "a claim rejected with a reason code is appealed from My requests and goes to Finance and Legal", "appeal", async (portal) => {
  const started = await portal.ctl(
    "bob.zhang", "instance", "start", "dealer-claim",
    "--form", "dealer_id=D-2001", "--form", "claim_type=marketing", "--form", "amount=48000.00",
    "--form", "region=sales-east", "--form", "description=Spring launch event at the dealer's showroom",
  );
  const id = started.instance.id;
  const review = started.instance.pending_tasks.find((task) => task.assignee === "tina.luo");
  assert.ok(review, "tina.luo has the claim-review task");

  // tina rejects it from the task page with a reason code and a comment
  // (the step requires both).
  const tina = await portal.open("tina.luo");
  await portal.go(tina, `#/task/${review.id}`);
  await tina.getByRole("group", { name: "Actions" }).getByRole("button", { name: "Reject", exact: true }).click();
  const reject = tina.getByRole("form", { name: "Reject" });
  const reasons = await reject.getByLabel("Reason").locator("option").evaluateAll((options) => options.map((option) => option.value));
  assert.deepEqual(reasons, ["", "incomplete_documents", "amount_not_supported", "duplicate_claim", "policy_not_met", "data_mismatch", "other"]);
  // Without a reason the form does not go.
  await reject.getByLabel("Comment").fill("The showroom event is not in the marketing plan");
  await reject.getByRole("button", { name: "Confirm: Reject" }).click();
  assert.equal(await reject.getByLabel("Reason").evaluate((select) => select.validity.valueMissing), true);
  assert.equal((await portal.instance("bob.zhang", id)).status, "RUNNING");
  await reject.getByLabel("Reason").selectOption("policy_not_met");
  await portal.screenshot(tina, "task-reject");
  await reject.getByRole("button", { name: "Confirm: Reject" }).click();
  await tina.getByText("Done: Reject.").waitFor();

  const rejected = await portal.instance("bob.zhang", id);
  assert.equal(rejected.status, "REJECTED");
  assert.equal(rejected.outcome_reason, "policy_not_met");
  assert.equal(rejected.outcome_comment, "The showroom event is not in the marketing plan");
  assert.ok(rejected.appeal_until, "a rejected dealer claim has an appeal window");
  const appealUntil = new Date(rejected.appeal_until).getTime();
  // Five working days: at least a week away, at most a fortnight with
  // holidays.
  assert.ok(appealUntil > Date.now() + 5 * 86400_000 && appealUntil < Date.now() + 15 * 86400_000, rejected.appeal_until);

  // bob, on his phone, sees it in My requests with the way to appeal.
  const bob = await portal.open("bob.zhang", { viewport: PHONE });
  await bob.getByRole("navigation").getByRole("link", { name: "My requests" }).click();
  await ready(bob);
  const request = bob.locator(`article.request[data-instance-id="${id}"]`);
  assert.equal(await request.getAttribute("data-status"), "REJECTED");
  await request.getByRole("link", { name: /^Rejected: you may appeal until / }).click();
  await ready(bob);
  assert.match(await bob.locator(".summary").innerText(), /Outcome[\s\S]*Does not meet the claims policy policy_not_met[\s\S]*not in the marketing plan/);
  const appeal = bob.getByRole("form", { name: "Appeal" });
  assert.match(await appeal.innerText(), /You may appeal the rejection until/);
  await appeal.getByLabel("Comment").fill("The event was approved by the regional head in March; minutes attached");
  await portal.screenshot(bob, "appeal-phone");
  await appeal.getByRole("button", { name: "Appeal" }).click();
  await bob.getByText("Done: Appeal.").waitFor();
  await ready(bob);
  assert.equal(await bob.locator(".case").getAttribute("data-status"), "RUNNING");
  // One appeal only: the form is gone.
  assert.equal(await bob.getByRole("form", { name: "Appeal" }).count(), 0);
  await portal.screenshot(bob, "appealed-phone");

  const appealed = await portal.instance("bob.zhang", id);
  assert.equal(appealed.status, "RUNNING");
  assert.deepEqual([...appealed.active_steps].sort(), ["finance-verification", "legal-verification"]);
  const byStep = (step) => appealed.pending_tasks.filter((task) => task.step_id === step && task.status === "PENDING").map((task) => task.assignee).sort();
  assert.deepEqual(byStep("finance-verification"), ["victor.fang", "wendy.shi"]);
  assert.deepEqual(byStep("legal-verification"), ["diana.lu"]);
  const history = await portal.ctl("bob.zhang", "instance", "history", id);
  const filed = history.events.find((event) => event.type === "appeal_filed");
  assert.ok(filed, "an appeal_filed event");
  assert.equal(filed.actor, "bob.zhang");
  assert.equal(filed.comment, "The event was approved by the regional head in March; minutes attached");

  // The verifiers find their tasks in their inboxes.
  for (const [user, step] of [["victor.fang", "finance-verification"], ["diana.lu", "legal-verification"]]) {
    const page = await portal.open(user);
    const task = appealed.pending_tasks.find((candidate) => candidate.assignee === user);
    const row = page.locator(`article.task[data-task-id="${task.id}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), step === "finance-verification" ? /Finance verification \(appeal\)/ : /Legal verification \(appeal\)/);
    await row.getByRole("link", { name: "Open" }).click();
    await ready(page);
    const actions = page.getByRole("group", { name: "Actions" });
    await actions.getByRole("button", { name: "Approve", exact: true }).waitFor();
    assert.match(await page.locator(".timeline").innerText(), /Bob Zhang · Appealed[\s\S]*minutes attached/);
    if (user === "victor.fang") await portal.screenshot(page, "verification-task");
    await page.context().close();
  }

  // Finance upholds the rejection: the claim ends REJECTED again, and
  // with its one appeal used there is no second one to offer.
  const finance = appealed.pending_tasks.find((task) => task.assignee === "victor.fang");
  await portal.ctl("victor.fang", "task", "reject", finance.id, "--reason", "policy_not_met", "--comment", "No such approval in the March minutes");
  const upheld = await portal.instance("bob.zhang", id);
  assert.equal(upheld.status, "REJECTED");
  await assert.rejects(
    portal.ctl("bob.zhang", "instance", "appeal", id, "--comment", "Once more"),
    (error) => error.exitCode === 64 + 9 && /used its 1 appeal/.test(error.message),
  );
  // The view still carries an appeal_until; the portal must not offer
  // what the server refuses.
  await bob.getByRole("navigation").getByRole("link", { name: "My requests" }).click();
  await ready(bob);
  const after = bob.locator(`article.request[data-instance-id="${id}"]`);
  assert.equal(await after.getAttribute("data-status"), "REJECTED");
  assert.equal(await after.getByRole("link", { name: /may appeal/ }).count(), 0);
  await portal.go(bob, `#/instance/${id}`);
  assert.equal(await bob.locator(".case").getAttribute("data-status"), "REJECTED");
  assert.equal(await bob.getByRole("form", { name: "Appeal" }).count(), 0);
});
