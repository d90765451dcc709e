// A group task: a sampled dealer claim goes to the quality-control
// inspectors as one shared task; one of them claims it in the inbox and
// completes it with the step's declared result (a verdict and reason
// codes) and the comment the step requires, which approves the claim.
import assert from "node:assert/strict";
import test from "node:test";
import { browserTest, ready } from "./harness.mjs";

// A fifth of claims is sampled, by a draw on the instance id: claims are
// filed and reviewed (over gRPC) until one is.
async function sampledClaim(portal) {
  for (let attempt = 1; attempt <= 60; attempt++) {
    const started = await portal.ctl(
      "bob.zhang", "instance", "start", "dealer-claim",
      "--form", `dealer_id=D-${3000 + attempt}`, "--form", "amount=950.00",
      "--form", "region=sales-east", "--form", "description=Logistics costs for a recall",
    );
    const review = started.instance.pending_tasks.find((task) => task.assignee === "tina.luo");
    const decided = await portal.ctl("tina.luo", "task", "approve", review.id);
    if (decided.instance.active_steps?.includes("quality-check")) return decided.instance.id;
    assert.equal(decided.instance.status, "APPROVED");
  }
  throw new Error("no claim sampled in 60 tries");
}

browserTest(test, "a QC inspector claims the group task and completes it", "claim", async (portal) => {
  const id = await sampledClaim(portal);
  const group = (await portal.instance("bob.zhang", id)).pending_tasks;
  assert.equal(group.length, 1);
  assert.equal(group[0].assignee ?? "", "");

  const uma = await portal.open("uma.deng");
  const row = uma.locator(`article.task[data-instance-id="${id}"]`);
  assert.match(await row.locator(".badges").innerText(), /To claim[\s\S]*Group: qc-inspector @ sales-ops/);
  // Unclaimed, it cannot be bulk approved: it has no checkbox.
  assert.equal(await row.getByRole("checkbox").count(), 0);
  await portal.screenshot(uma, "inbox");
  await row.getByRole("button", { name: "Claim" }).click();
  await uma.getByText("Claimed: Quality-control sample check.").waitFor();
  assert.equal((await portal.ctl("uma.deng", "task", "get", group[0].id)).task.assignee, "uma.deng");

  // vera.cheng, the other inspector, no longer has it to claim.
  const vera = await portal.open("vera.cheng");
  assert.equal(await vera.locator(`article.task[data-instance-id="${id}"]`).count(), 0);

  await uma.locator(`article.task[data-instance-id="${id}"]`).getByRole("link", { name: "Open" }).click();
  await ready(uma);
  const actions = uma.getByRole("group", { name: "Actions" });
  assert.deepEqual(await actions.getByRole("button").allInnerTexts(), ["Complete", "Comment"]);
  await actions.getByRole("button", { name: "Complete" }).click();
  const result = uma.locator("fieldset.task-result");
  assert.match(await result.innerText(), /QC verdict[\s\S]*QC reason codes[\s\S]*Items checked/);
  await uma.getByLabel("Comment").fill("Sample checked: documents in order");
  // The verdict is required, the reasons and the count are not.
  const verdict = uma.getByLabel("QC verdict");
  assert.equal(await verdict.evaluate((select) => select.required), true);
  assert.equal(await uma.getByLabel("Items checked").evaluate((input) => input.required), false);
  await verdict.selectOption("pass");
  await uma.getByLabel("Items checked").fill("4");
  await portal.screenshot(uma, "task-complete");
  await uma.getByRole("button", { name: "Confirm: Complete" }).click();
  await uma.locator(".notice").waitFor();
  assert.match(await uma.locator(".route.so-far").innerText(), /Quality-control sample check[\s\S]*Uma Deng[\s\S]*Complete[\s\S]*Sample checked/);

  const finished = await portal.instance("bob.zhang", id);
  assert.equal(finished.status, "APPROVED");
  assert.equal(finished.form.qc_result, "pass");
  assert.equal(finished.form.checked_items, 4);
});
