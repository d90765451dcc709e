// Handing a task on: one claims reviewer transfers her task to the head of
// Sales Operations (it becomes his); the other delegates his to a
// colleague, who approves it on his behalf, and the trail says so.
import assert from "node:assert/strict";
import test from "node:test";
import { assertControlsLabelled, browserTest, PHONE, ready } from "./harness.mjs";

browserTest(test, "a task is transferred to another user, and a delegate approves on behalf of the assignee", "reassign", async (portal) => {
  const started = await portal.ctl(
    "bob.zhang", "instance", "start", "dealer-claim",
    "--form", "dealer_id=D-2002", "--form", "amount=3600.00",
    "--form", "region=sales-east", "--form", "description=Towing of a vehicle under a recall",
  );
  const id = started.instance.id;
  const taskOf = (user) => started.instance.pending_tasks.find((task) => task.assignee === user);
  const tinaTask = taskOf("tina.luo");
  const tonyTask = taskOf("tony.hu");
  assert.ok(tinaTask && tonyTask, "both claims reviewers have a claim-review task");

  // tina transfers hers to henry.zhao, picking him from the directory.
  const tina = await portal.open("tina.luo");
  await portal.go(tina, `#/task/${tinaTask.id}`);
  await tina.getByRole("group", { name: "Actions" }).getByRole("button", { name: "Transfer", exact: true }).click();
  const transfer = tina.getByRole("form", { name: "Transfer" });
  const user = transfer.getByRole("combobox", { name: "User" });
  // The focus is on the person to choose; the directory offers Henry.
  assert.equal(await tina.evaluate(() => document.activeElement?.getAttribute("name")), "users");
  assert.equal(await transfer.locator('datalist option[value="henry.zhao"]').textContent(), "Henry Zhao");
  await user.fill("henry.zhao");
  await transfer.getByLabel("Comment").fill("Henry knows this dealer's recall history");
  await transfer.getByRole("button", { name: "Confirm: Transfer" }).click();
  await tina.getByText("Done: Transfer.").waitFor();
  await ready(tina);
  // The task is no longer tina's to decide.
  assert.equal(await tina.getByRole("group", { name: "Actions" }).getByRole("button").count(), 0);
  assert.match(await tina.getByRole("group", { name: "Actions" }).innerText(), /This task is Henry Zhao's\./);

  const moved = (await portal.ctl("henry.zhao", "task", "get", tinaTask.id)).task;
  assert.equal(moved.assignee, "henry.zhao");
  assert.equal(moved.status, "PENDING");
  assert.equal(moved.delegated_from ?? "", "");
  // It left tina's inbox and is in henry's, which he reads on his phone.
  await tina.getByRole("navigation").getByRole("link", { name: "Inbox" }).click();
  await ready(tina);
  assert.equal(await tina.locator(`article.task[data-task-id="${tinaTask.id}"]`).count(), 0);
  const henry = await portal.open("henry.zhao", { viewport: PHONE });
  await henry.locator(`article.task[data-task-id="${tinaTask.id}"]`).waitFor();
  await assertControlsLabelled(henry, "the inbox");
  await portal.screenshot(henry, "transferred-inbox-phone");
  await henry.context().close();

  // tony delegates his to sam.qian.
  const tony = await portal.open("tony.hu");
  await portal.go(tony, `#/task/${tonyTask.id}`);
  await tony.getByRole("group", { name: "Actions" }).getByRole("button", { name: "Delegate", exact: true }).click();
  const delegate = tony.getByRole("form", { name: "Delegate" });
  await delegate.getByRole("combobox", { name: "User" }).fill("sam.qian");
  await delegate.getByLabel("Comment").fill("Out at the dealer audit until Friday");
  await delegate.getByRole("button", { name: "Confirm: Delegate" }).click();
  await tony.getByText("Done: Delegate.").waitFor();
  const delegated = (await portal.ctl("sam.qian", "task", "get", tonyTask.id)).task;
  assert.equal(delegated.assignee, "sam.qian");
  assert.equal(delegated.delegated_from, "tony.hu");

  // sam finds it in his inbox and approves it.
  const sam = await portal.open("sam.qian");
  const row = sam.locator(`article.task[data-task-id="${tonyTask.id}"]`);
  assert.match(await row.locator(".meta").innerText(), /on behalf of Tony Hu/);
  await row.getByRole("link", { name: "Open" }).click();
  await ready(sam);
  assert.equal(await sam.locator(".delegated").innerText(), "Delegated to you by Tony Hu: your decision is recorded on their behalf.");
  await sam.getByRole("group", { name: "Actions" }).getByRole("button", { name: "Approve", exact: true }).click();
  await sam.getByRole("form", { name: "Approve" }).getByLabel("Comment").fill("Recall towing is covered");
  await sam.getByRole("form", { name: "Approve" }).getByRole("button", { name: "Confirm: Approve" }).click();
  await sam.getByText("Done: Approve.").waitFor();
  await ready(sam);

  // Recorded as sam's decision on tony's behalf.
  const history = await portal.ctl("bob.zhang", "instance", "history", id);
  const decided = history.events.find((event) => event.type === "task_completed" && event.task_id === tonyTask.id);
  assert.ok(decided, "tony's task was decided");
  assert.equal(decided.actor, "sam.qian");
  assert.equal(decided.on_behalf_of, "tony.hu");
  assert.equal(decided.task_completed.task.decision, "APPROVE");
  const transferred = history.events.find((event) => event.type === "task_updated" && event.task_id === tinaTask.id);
  assert.equal(transferred.actor, "tina.luo");
  assert.equal(transferred.reason, "transferred");
  assert.equal(transferred.comment, "Henry knows this dealer's recall history");
  // ANY of the reviewers decides: henry's transferred task is no longer open.
  assert.equal((await portal.ctl("henry.zhao", "task", "get", tinaTask.id)).task.status, "TASK_CANCELLED");
  const after = await portal.instance("bob.zhang", id);
  assert.notDeepEqual(after.active_steps ?? [], ["claim-review"]);

  // The page says so, in the route and on the timeline.
  const decision = sam.locator(`.route.so-far li[data-task-id="${tonyTask.id}"]`);
  assert.match(await decision.innerText(), /Sam Qian on behalf of Tony Hu[\s\S]*Approve[\s\S]*Recall towing is covered/);
  assert.match(await sam.locator(".timeline").innerText(), /Sam Qian on behalf of Tony Hu · Decided/);
  assert.match(await sam.locator(".timeline").innerText(), /Tony Hu · Task changed · Claims review → Sam Qian · delegated[\s\S]*dealer audit/);
  assert.match(await sam.locator(".timeline").innerText(), /Tina Luo · Task changed · Claims review → Henry Zhao · transferred[\s\S]*recall history/);
  await portal.screenshot(sam, "delegated-approved");
});
