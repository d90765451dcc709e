// An applicant, on a phone, withdraws a running claim from My requests: it
// ends WITHDRAWN, the reviewers' tasks close, and it leaves their inboxes.
import assert from "node:assert/strict";
import test from "node:test";
import { assertControlsLabelled, browserTest, eventually, PHONE, ready } from "./harness.mjs";
import { startClaim } from "./flows.mjs";

browserTest(test, "an applicant withdraws a running claim from My requests", "withdraw", async (portal) => {
  const bob = await portal.open("bob.zhang", { viewport: PHONE });
  const id = await startClaim(portal, bob, {
    dealer_id: "D-2005",
    claim_type: "logistics",
    amount: "2100.00",
    region: "sales-east",
    description: "Freight for parts that the dealer later returned",
  });
  const started = await portal.instance("bob.zhang", id);
  assert.equal(started.status, "RUNNING");
  const reviewTasks = started.pending_tasks.map((task) => task.id);
  assert.ok(reviewTasks.length > 0);

  await bob.getByRole("navigation").getByRole("link", { name: "My requests" }).click();
  await ready(bob);
  const request = bob.locator(`article.request[data-instance-id="${id}"]`);
  assert.equal(await request.getAttribute("data-status"), "RUNNING");
  await request.getByRole("link", { name: /dealer-claim · D-2005/ }).click();
  await ready(bob);
  const withdraw = bob.getByRole("form", { name: "Withdraw" });
  await withdraw.getByLabel("Comment").fill("The dealer returned the parts; no claim after all");
  await assertControlsLabelled(bob, "the applicant's instance page");
  await portal.screenshot(bob, "instance-phone");
  await withdraw.getByRole("button", { name: "Withdraw" }).click();
  await bob.getByText("Done: Withdraw.").waitFor();
  await ready(bob);
  assert.equal(await bob.locator(".case").getAttribute("data-status"), "WITHDRAWN");
  // Nothing left to withdraw or remind.
  assert.equal(await bob.getByRole("form", { name: "Withdraw" }).count(), 0);
  assert.equal(await bob.getByRole("button", { name: "Remind" }).count(), 0);

  const withdrawn = await portal.instance("bob.zhang", id);
  assert.equal(withdrawn.status, "WITHDRAWN");
  assert.equal(withdrawn.pending_tasks?.length ?? 0, 0);
  for (const task of reviewTasks) {
    assert.equal((await portal.ctl("bob.zhang", "task", "get", task)).task.status, "TASK_CANCELLED");
  }
  const history = await portal.ctl("bob.zhang", "instance", "history", id);
  const finished = history.events.find((event) => event.type === "instance_finished");
  assert.equal(finished.instance_finished.status, "WITHDRAWN");
  assert.equal(finished.actor, "bob.zhang");

  // My requests lists it as withdrawn, also under that status's filter.
  await bob.getByRole("navigation").getByRole("link", { name: "My requests" }).click();
  await ready(bob);
  await bob.getByRole("combobox", { name: "Status" }).selectOption({ label: "Withdrawn" });
  await eventually(async () => (await bob.locator(`article.request[data-instance-id="${id}"]`).getAttribute("data-status").catch(() => null)) === "WITHDRAWN", "the request under Withdrawn");
  assert.match(await bob.locator(`article.request[data-instance-id="${id}"]`).innerText(), /Withdrawn/);
  await portal.screenshot(bob, "requests-phone");

  // tina's inbox no longer has it.
  const tina = await portal.open("tina.luo");
  await tina.locator(".task-list").waitFor();
  assert.equal(await tina.locator(`article.task[data-instance-id="${id}"]`).count(), 0);
});
