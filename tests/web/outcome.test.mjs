// A finished seller case shows its named business outcome: as a badge in
// My requests, and with the definition's label on the case page and in its
// timeline.
import assert from "node:assert/strict";
import test from "node:test";
import { browserTest, ready } from "./harness.mjs";

// Works a seller case through triage, resolution and close over gRPC, each
// step completed by the agent with its result as name=value pairs.
async function resolvedSellerCase(portal) {
  const started = await portal.ctl(
    "sara.lin", "instance", "start", "seller-escalation",
    "--form", "seller_id=S-4001", "--form", "issue_type=payment",
    "--form", "description=Payout held since Monday",
  );
  const id = started.instance.id;
  const complete = async (...args) => {
    const open = (await portal.instance("sara.lin", id)).pending_tasks[0];
    assert.ok(open);
    await portal.ctl("tom.ren", "task", "claim", open.id);
    await portal.ctl("tom.ren", "task", "complete", open.id, ...args);
  };
  await complete("--result", "needs_vendor=false");
  await complete("--comment", "payout released");
  await complete("--result", "csat=4");
  return id;
}

browserTest(test, "a finished case shows its business outcome", "outcome", async (portal) => {
  const id = await resolvedSellerCase(portal);
  const finished = await portal.instance("sara.lin", id);
  assert.equal(finished.status, "APPROVED");
  assert.equal(finished.outcome, "RESOLVED_FIRST_TIME");

  const sara = await portal.open("sara.lin");
  await sara.getByRole("navigation").getByRole("link", { name: "My requests" }).click();
  await ready(sara);
  const request = sara.locator(`article.request[data-instance-id="${id}"]`);
  assert.equal(await request.locator(".business-outcome").getAttribute("data-outcome"), "RESOLVED_FIRST_TIME");
  await portal.screenshot(sara, "my-requests");

  await request.getByRole("link", { name: /seller-escalation · S-4001/ }).click();
  await ready(sara);
  const outcome = sara.locator(".case .business-outcome").first();
  assert.match(await outcome.innerText(), /Resolved without escalation[\s\S]*RESOLVED_FIRST_TIME/);
  await portal.screenshot(sara, "case");
});
