// From the keyboard alone, a claims reviewer comments on a claim (the
// comment shows on the timeline) and copies a colleague in (who may then
// read it, and finds it under "Copied to me"). Every control of the task
// page, its dialogs and the CC'd reader's pages has an accessible name.
import assert from "node:assert/strict";
import test from "node:test";
import { assertControlsLabelled, browserTest, PHONE, ready, tabTo } from "./harness.mjs";

// In the page: is the focus on the Actions group's button named `name`?
const onAction = (name) => {
  const active = document.activeElement;
  return active?.tagName === "BUTTON" && active.closest('[role="group"]')?.getAttribute("aria-label") === "Actions" && active.textContent === name;
};

browserTest(test, "comment and CC from the keyboard, seen on the timeline and by the CC'd reader", "cc-comment", async (portal) => {
  const started = await portal.ctl(
    "bob.zhang", "instance", "start", "dealer-claim",
    "--form", "dealer_id=D-2004", "--form", "amount=7200.00",
    "--form", "region=sales-east", "--form", "description=Replacement parts for a flood-damaged showroom car",
  );
  const id = started.instance.id;
  const review = started.instance.pending_tasks.find((task) => task.assignee === "tina.luo");
  // derek.huang, bob's colleague, has no part in it yet.
  await assert.rejects(portal.instance("derek.huang", id), (error) => error.exitCode === 64 + 5);

  const tina = await portal.open("tina.luo");
  await portal.go(tina, `#/task/${review.id}`);
  const labelled = await assertControlsLabelled(tina, "the task page");
  for (const control of ["button: Approve", "button: Reject", "button: Comment", "button: CC", "link: Inbox"]) {
    assert.ok(labelled.includes(control), `${control} in ${labelled.join(", ")}`);
  }

  // Comment: Tab to the button, Enter opens the form with the focus in
  // the comment box, Tab to the confirm button, Enter sends it.
  await tabTo(tina, "the Comment button", onAction, "Comment");
  await tina.keyboard.press("Enter");
  const commentForm = tina.getByRole("form", { name: "Comment" });
  await commentForm.waitFor();
  assert.equal(await tina.evaluate(() => document.activeElement?.getAttribute("name")), "comment");
  await tina.keyboard.type("Asked the dealer for photos of the water line");
  await assertControlsLabelled(tina, "the task page with the comment form open");
  await tina.keyboard.press("Tab");
  assert.equal(await tina.evaluate(() => document.activeElement?.textContent), "Confirm: Comment");
  await tina.keyboard.press("Enter");
  await tina.getByText("Done: Comment.").waitFor();
  await ready(tina);

  let history = await portal.ctl("bob.zhang", "instance", "history", id);
  const comment = history.events.find((event) => event.type === "comment_added");
  assert.ok(comment, "a comment_added event");
  assert.equal(comment.actor, "tina.luo");
  assert.equal(comment.comment, "Asked the dealer for photos of the water line");
  // The task stays open: a comment decides nothing.
  assert.equal((await portal.ctl("tina.luo", "task", "get", review.id)).task.status, "PENDING");
  const commentEntry = tina.locator(`.timeline li[data-type="comment_added"]`);
  assert.match(await commentEntry.innerText(), /Tina Luo · Comment · Claims review[\s\S]*Asked the dealer for photos of the water line/);

  // CC: the same from the keyboard, naming derek in the users box.
  await tabTo(tina, "the CC button", onAction, "CC");
  await tina.keyboard.press("Enter");
  const ccForm = tina.getByRole("form", { name: "CC" });
  await ccForm.waitFor();
  // Escape closes it and gives the focus back to its button; Enter opens
  // it again.
  await tina.keyboard.press("Escape");
  await ccForm.waitFor({ state: "detached" });
  assert.equal(await tina.evaluate(onAction, "CC"), true);
  await tina.keyboard.press("Enter");
  await ccForm.waitFor();
  assert.equal(await tina.evaluate(() => document.activeElement?.getAttribute("name")), "users");
  await tina.keyboard.type("derek.huang");
  await tina.keyboard.press("Tab");
  assert.equal(await tina.evaluate(() => document.activeElement?.getAttribute("name")), "comment");
  await tina.keyboard.type("For your records: the flood claims this month");
  await portal.screenshot(tina, "task-cc");
  await tina.keyboard.press("Tab");
  assert.equal(await tina.evaluate(() => document.activeElement?.textContent), "Confirm: CC");
  await tina.keyboard.press("Enter");
  await tina.getByText("Done: CC.").waitFor();
  await ready(tina);

  history = await portal.ctl("bob.zhang", "instance", "history", id);
  const cc = history.events.find((event) => event.type === "cc_sent");
  assert.ok(cc, "a cc_sent event");
  assert.deepEqual(cc.cc_sent.users, ["derek.huang"]);
  assert.match(await tina.locator(`.timeline li[data-type="cc_sent"]`).innerText(), /Tina Luo · CC sent · Claims review → Derek Huang[\s\S]*flood claims/);
  await portal.screenshot(tina, "timeline");

  // derek may read it now, over gRPC and in the portal, on his phone.
  const asDerek = await portal.instance("derek.huang", id);
  assert.equal(asDerek.id, id);
  const derek = await portal.open("derek.huang", { viewport: PHONE });
  await derek.getByRole("navigation").getByRole("link", { name: "My requests" }).click();
  await ready(derek);
  assert.equal(await derek.locator(`article.request[data-instance-id="${id}"]`).count(), 0);
  await derek.getByRole("radio", { name: "Copied to me" }).check();
  const copied = derek.locator(`article.request[data-instance-id="${id}"]`);
  await copied.waitFor();
  assert.match(await copied.innerText(), /Applicant: Bob Zhang/);
  await assertControlsLabelled(derek, "My requests");
  await portal.screenshot(derek, "copied-phone");
  await copied.getByRole("link", { name: /dealer-claim · D-2004/ }).click();
  await ready(derek);
  assert.equal(await derek.locator(".case").getAttribute("data-instance-id"), id);
  assert.match(await derek.locator(".timeline").innerText(), /Asked the dealer for photos of the water line/);
  // A reader, not a decider: no task panel and no applicant's actions.
  assert.equal(await derek.getByRole("group", { name: "Actions" }).count(), 0);
  assert.equal(await derek.getByRole("form").count(), 0);
  await assertControlsLabelled(derek, "the CC'd reader's instance page");
  await portal.screenshot(derek, "instance-phone");
});
