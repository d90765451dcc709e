// A reviewer returns a claim with a reason; the applicant resubmits it with
// a corrected amount (the changed field marked); the reviewer approves.
import assert from "node:assert/strict";
import test from "node:test";
import { browserTest, ready } from "./harness.mjs";
import { CLAIM, completeQualityCheckIfSampled, field, startClaim } from "./flows.mjs";

browserTest(test, "a claim is returned with a reason, resubmitted with a changed amount, and approved", "return", async (portal) => {
  const bob = await portal.open("bob.zhang");
  const id = await startClaim(portal, bob, CLAIM);
  const [reviewTask] = (await portal.instance("bob.zhang", id)).pending_tasks.filter((task) => task.assignee === "tina.luo");
  assert.ok(reviewTask);

  // tina follows a link to the task before she has signed in: she signs
  // in and lands on it.
  const tina = await portal.open(null);
  await portal.go(tina, `#/task/${reviewTask.id}`);
  await tina.waitForURL(/#\/signin$/);
  await tina.getByLabel("User id").fill("tina.luo");
  await tina.locator("form").filter({ has: tina.getByLabel("User id") }).getByRole("button", { name: "Sign in" }).click();
  await tina.waitForURL(new RegExp(`#/task/${reviewTask.id}$`));
  await ready(tina);
  // Her inbox lists it too, with a link to the same page.
  await tina.getByRole("navigation").getByRole("link", { name: "Inbox" }).click();
  await tina.locator(`article.task[data-task-id="${reviewTask.id}"]`).getByRole("link", { name: "Open" }).click();
  await ready(tina);
  assert.match(tina.url(), new RegExp(`#/task/${reviewTask.id}$`));
  // Only what the step allows: claim-review lists no COMPLETE or ADD_SIGNER.
  const actions = tina.getByRole("group", { name: "Actions" });
  for (const allowed of ["Approve", "Reject", "Return", "Transfer", "Delegate", "CC", "Comment", "Pause clock", "Extend deadline"]) {
    await actions.getByRole("button", { name: allowed, exact: true }).waitFor();
  }
  assert.equal(await actions.getByRole("button", { name: "Complete" }).count(), 0);
  assert.equal(await actions.getByRole("button", { name: "Add signer" }).count(), 0);
  assert.match(await tina.locator(".route-view").innerText(), /Claims review[\s\S]*in progress[\s\S]*Tina Luo/);
  await portal.screenshot(tina, "task");

  // From the keyboard: Enter on the button opens its form with the focus
  // on the first thing to choose, the reason.
  await actions.getByRole("button", { name: "Return", exact: true }).focus();
  await tina.keyboard.press("Enter");
  const form = tina.locator('form[data-action="RETURN"]');
  await form.waitFor();
  assert.equal(await tina.evaluate(() => document.activeElement?.getAttribute("name")), "reason");
  await form.getByLabel("Reason").selectOption("wrong_amount");
  await form.getByLabel("Return to").selectOption("");
  await form.getByLabel("Comment").fill("The invoice says 12500.00");
  await portal.screenshot(tina, "task-return");
  await form.getByRole("button", { name: "Confirm: Return" }).click();
  await tina.locator(".notice").waitFor();

  const returned = await portal.instance("bob.zhang", id);
  assert.equal(returned.status, "RETURNED");
  assert.equal(returned.last_return.reason, "wrong_amount");
  assert.equal(returned.last_return.comment, "The invoice says 12500.00");
  assert.equal(returned.last_return.by, "tina.luo");

  // bob sees why, and resubmits with the amount corrected.
  await portal.go(bob, `#/instance/${id}`);
  assert.equal(await bob.locator(".case").getAttribute("data-status"), "RETURNED");
  assert.match(await bob.locator(".return-note").innerText(), /Amount is wrong; correct it wrong_amount[\s\S]*The invoice says 12500.00/);
  const resubmit = bob.locator("form.resubmit");
  assert.equal(await resubmit.locator(".field.changed").count(), 0);
  await resubmit.getByLabel("Amount (CNY)").fill("12500.00");
  // The changed field, and only it, is marked, with its earlier value.
  assert.deepEqual(await resubmit.locator(".field.changed").evaluateAll((els) => els.map((el) => el.dataset.field)), ["amount"]);
  assert.match(await field(resubmit, "amount").locator(".changed-note").innerText(), /was: 12800.00/);
  await resubmit.getByLabel("Comment").fill("Corrected to the invoice");
  await portal.screenshot(bob, "resubmit");
  await resubmit.getByRole("button", { name: "Resubmit" }).click();
  await bob.locator(".notice").waitFor();
  await ready(bob);

  const resubmitted = await portal.instance("bob.zhang", id);
  assert.equal(resubmitted.status, "RUNNING");
  assert.equal(resubmitted.form.amount, "12500.00");
  assert.equal(resubmitted.form_revision, 2);
  const history = await portal.ctl("bob.zhang", "instance", "history", id);
  const change = history.events.find((event) => event.type === "instance_resubmitted");
  assert.deepEqual(change.instance_resubmitted.changes, [{ field: "amount", before: "12800.00", after: "12500.00" }]);

  // tina approves the corrected claim from its task page.
  const [secondReview] = resubmitted.pending_tasks.filter((task) => task.assignee === "tina.luo");
  assert.ok(secondReview);
  await portal.go(tina, `#/task/${secondReview.id}`);
  assert.match(await tina.locator(".timeline").innerText(), /Resubmitted[\s\S]*amount: 12800.00 → 12500.00/);
  await tina.getByRole("group", { name: "Actions" }).getByRole("button", { name: "Approve", exact: true }).click();
  await tina.locator('form[data-action="APPROVE"]').getByRole("button", { name: "Confirm: Approve" }).click();
  await tina.locator(".notice").waitFor();

  await completeQualityCheckIfSampled(portal, id);
  const finished = await portal.instance("bob.zhang", id);
  assert.equal(finished.status, "APPROVED");
  assert.equal(finished.form.amount, "12500.00");
  await portal.go(bob, `#/instance/${id}`);
  assert.equal(await bob.locator(".case").getAttribute("data-status"), "APPROVED");
  await portal.screenshot(bob, "instance-after-resubmit");
});
