// A return to an earlier step rather than to the applicant: the sales-ops
// reviewer of a dealer application sends it back to the manager who
// endorsed it.
import assert from "node:assert/strict";
import test from "node:test";
import { browserTest, PHONE, ready } from "./harness.mjs";

browserTest(test, "a reviewer returns an application to an earlier step", "step-return", async (portal, t) => {
  const started = await portal.ctl(
    "bob.zhang", "instance", "start", "dealer-application",
    "--form", "dealer_id=D-2006", "--form", "application_type=account",
    "--form", "region=sales-east", "--form", "description=Add a second showroom to the dealer's account",
  );
  const id = started.instance.id;
  const endorsement = started.instance.pending_tasks.find((task) => task.assignee === "alice.chen");
  const endorsed = await portal.ctl("alice.chen", "task", "approve", endorsement.id);
  const samTask = endorsed.instance.pending_tasks.find((task) => task.assignee === "sam.qian");
  assert.ok(samTask, "sam.qian has an account-review task");

  const sam = await portal.open("sam.qian");
  await portal.go(sam, `#/task/${samTask.id}`);
  await sam.getByRole("group", { name: "Actions" }).getByRole("button", { name: "Return", exact: true }).click();
  const form = sam.getByRole("form", { name: "Return" });
  const returnTo = form.getByRole("combobox", { name: "Return to" });
  // The applicant, or a step already done, by its name.
  assert.deepEqual(await returnTo.locator("option").allInnerTexts(), ["The applicant", "Manager endorsement"]);
  await returnTo.selectOption({ label: "Manager endorsement" });
  await form.getByLabel("Comment").fill("The second showroom's address is not in the endorsement");
  await portal.screenshot(sam, "task-return");
  await form.getByRole("button", { name: "Confirm: Return" }).click();
  await sam.getByText("Done: Return.").waitFor();
  await ready(sam);

  // Sent back to manager-endorsement, not to bob: still running, and the
  // step entered again after the return.
  const history = await portal.ctl("bob.zhang", "instance", "history", id);
  const at = history.events.findIndex((candidate) => candidate.type === "instance_returned");
  assert.ok(at >= 0, "an instance_returned event");
  const event = history.events[at];
  assert.equal(event.instance_returned.to_step, "manager-endorsement");
  assert.equal(event.instance_returned.from_step, "account-review");
  assert.equal(event.actor, "sam.qian");
  assert.equal(event.comment, "The second showroom's address is not in the endorsement");
  assert.equal(history.events[at + 1].type, "step_entered");
  assert.equal(history.events[at + 1].step_id, "manager-endorsement");
  assert.equal((await portal.instance("bob.zhang", id)).status, "RUNNING");

  await sam.setViewportSize(PHONE);
  assert.match(
    await sam.locator('.timeline li[data-type="instance_returned"]').innerText(),
    /Sam Qian · Returned · Sales operations review \(account\) → Manager endorsement[\s\S]*address is not in the endorsement/,
  );
  await portal.screenshot(sam, "returned-phone");

  // alice decides it again: her endorsement from before the return does
  // not count for the step returned to.
  await t.test("the earlier step's approver is asked again", async () => {
    const returned = await portal.instance("bob.zhang", id);
    assert.deepEqual(returned.active_steps, ["manager-endorsement"]);
    const again = returned.pending_tasks.find((task) => task.assignee === "alice.chen");
    assert.ok(again, "alice.chen has a new endorsement task");
    const alice = await portal.open("alice.chen", { viewport: PHONE });
    await alice.locator(`article.task[data-task-id="${again.id}"]`).getByRole("link", { name: "Open" }).click();
    await ready(alice);
    await alice.getByRole("group", { name: "Actions" }).getByRole("button", { name: "Approve", exact: true }).waitFor();
  });
});
