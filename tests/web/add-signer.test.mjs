// Adding signers (加签) at the sales-operations review of a dealer
// application, which allows it: one reviewer puts the head of Sales
// Operations before himself, later a Legal head after himself; the other
// reviewer adds Finance's head alongside herself. Each lands where asked.
import assert from "node:assert/strict";
import test from "node:test";
import { browserTest, PHONE, ready } from "./harness.mjs";

async function addSigner(page, user, position, comment, beforeConfirm = async () => undefined) {
  await page.getByRole("group", { name: "Actions" }).getByRole("button", { name: "Add signer", exact: true }).click();
  const form = page.getByRole("form", { name: "Add signer" });
  await form.getByRole("combobox", { name: "User" }).fill(user);
  await form.getByRole("combobox", { name: "Position" }).selectOption({ label: position });
  await form.getByLabel("Comment").fill(comment);
  await beforeConfirm();
  await form.getByRole("button", { name: "Confirm: Add signer" }).click();
  await page.getByText("Done: Add signer.").waitFor();
  await ready(page);
}

browserTest(test, "signers are added before, after and alongside an approver", "add-signer", async (portal) => {
  const started = await portal.ctl(
    "bob.zhang", "instance", "start", "dealer-application",
    "--form", "dealer_id=D-2003", "--form", "application_type=account",
    "--form", "region=sales-east", "--form", "description=Move the dealer to the premium account tier",
  );
  const id = started.instance.id;
  const endorsement = started.instance.pending_tasks.find((task) => task.assignee === "alice.chen");
  assert.ok(endorsement, "bob's manager endorses first");
  const endorsed = await portal.ctl("alice.chen", "task", "approve", endorsement.id);
  assert.deepEqual(endorsed.instance.active_steps, ["account-review"]);
  const review = (user) => endorsed.instance.pending_tasks.find((task) => task.assignee === user);
  const samTask = review("sam.qian");
  const sophieTask = review("sophie.ye");
  assert.ok(samTask && sophieTask, "both sales-ops reviewers have an account-review task");
  const tasks = async () => (await portal.instance("bob.zhang", id)).pending_tasks;
  const at = (all, user) => all.find((task) => task.assignee === user);

  // sam asks henry.zhao to sign before him: henry's task is open, sam's
  // waits for it.
  const sam = await portal.open("sam.qian");
  await portal.go(sam, `#/task/${samTask.id}`);
  await addSigner(sam, "henry.zhao", "Before me", "Tier changes need the head's view first");
  let now = await tasks();
  assert.equal(at(now, "henry.zhao")?.status, "PENDING");
  assert.equal(at(now, "henry.zhao").chosen_by, "added by sam.qian (BEFORE)");
  assert.equal(at(now, "henry.zhao").slot, samTask.slot);
  assert.equal(at(now, "sam.qian").status, "WAITING");
  // Sam's page says his task waits its turn, with nothing to press.
  assert.match(await sam.locator(".card", { hasText: "Your task" }).innerText(), /This task is waiting its turn/);
  assert.equal(await sam.getByRole("group", { name: "Actions" }).getByRole("button").count(), 0);
  assert.match(await sam.locator(".route.so-far").innerText(), /Henry Zhao chosen by added by sam.qian \(BEFORE\)/);
  assert.match(await sam.locator(".timeline").innerText(), /Sam Qian · Task created · Sales operations review \(account\) → Henry Zhao[\s\S]*the head's view first/);

  // sophie adds karen.li alongside herself, on her phone: both are open.
  const sophie = await portal.open("sophie.ye", { viewport: PHONE });
  await portal.go(sophie, `#/task/${sophieTask.id}`);
  await sophie.getByRole("group", { name: "Actions" }).getByRole("button", { name: "Add signer", exact: true }).click();
  const positions = await sophie.getByRole("form", { name: "Add signer" }).getByRole("combobox", { name: "Position" }).locator("option").allInnerTexts();
  assert.deepEqual(positions, ["Before me", "After me", "Alongside me"]);
  await sophie.getByRole("form", { name: "Add signer" }).getByRole("button", { name: "Cancel" }).click();
  await addSigner(sophie, "karen.li", "Alongside me", "Finance should see the tier's discount", () => portal.screenshot(sophie, "parallel-phone"));
  now = await tasks();
  assert.equal(at(now, "karen.li")?.status, "PENDING");
  assert.equal(at(now, "karen.li").chosen_by, "added by sophie.ye (PARALLEL)");
  assert.equal(at(now, "sophie.ye").status, "PENDING");

  // henry signs; sam's turn comes back, and he adds michael.he after him.
  await portal.ctl("henry.zhao", "task", "approve", at(now, "henry.zhao").id, "--comment", "Fine by me");
  assert.equal(at(await tasks(), "sam.qian").status, "PENDING");
  await portal.go(sam, `#/task/${samTask.id}`);
  await addSigner(sam, "michael.he", "After me", "Legal to check the contract annex");
  now = await tasks();
  assert.equal(at(now, "michael.he")?.status, "WAITING");
  assert.equal(at(now, "michael.he").chosen_by, "added by sam.qian (AFTER)");
  assert.equal(at(now, "sam.qian").status, "PENDING");
  await portal.screenshot(sam, "after");

  // When sam approves, michael's turn comes; the step is not done until he
  // signs.
  await portal.ctl("sam.qian", "task", "approve", samTask.id);
  const afterSam = await portal.instance("bob.zhang", id);
  assert.deepEqual(afterSam.active_steps, ["account-review"]);
  assert.equal(at(afterSam.pending_tasks, "michael.he").status, "PENDING");
});
