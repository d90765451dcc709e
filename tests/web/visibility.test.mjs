// Who may see an instance: a user with no part in it opening its URL gets
// the portal's not-found page (the server says NOT_FOUND); a manager above
// the applicant reads it with the confidential fields redacted.
import assert from "node:assert/strict";
import test from "node:test";
import { browserTest, PHONE } from "./harness.mjs";

browserTest(test, "an instance's URL shows not-found to someone who may not see it, and redacts for managers above", "visibility", async (portal) => {
  const started = await portal.ctl(
    "bob.zhang", "instance", "start", "probation-review",
    "--form", "employee=bob.zhang",
    "--form", "grade=P5",
    "--form", "probation_end=2026-03-31",
    "--form", "self_assessment=Closed twelve dealer accounts and met every quarterly target.",
    "--form", "recommendation=confirm",
  );
  const id = started.instance.id;
  const taskId = started.instance.pending_tasks[0].id;

  // derek.huang, a colleague with no part in it, may not read it...
  await assert.rejects(portal.instance("derek.huang", id), (error) => error.exitCode === 64 + 5);
  // ...and its URLs show not-found, here in Chinese (his browser's
  // language) at phone width.
  const derek = await portal.open("derek.huang", { locale: "zh-CN", viewport: PHONE });
  await portal.go(derek, `#/instance/${id}`);
  await derek.locator('[data-not-found="true"]').waitFor();
  assert.equal(await derek.locator("h1").innerText(), "未找到");
  assert.equal(await derek.locator(".case").count(), 0);
  assert.doesNotMatch(await derek.locator("main").innerText(), /Closed twelve dealer accounts|P5/);
  await portal.screenshot(derek, "not-found-zh-phone");
  await portal.go(derek, `#/task/${taskId}`);
  await derek.locator('[data-not-found="true"]').waitFor();

  // The language switch turns the page to English.
  await derek.getByLabel("语言").first().selectOption("en");
  await derek.locator("h1", { hasText: "Not found" }).waitFor();
  await portal.screenshot(derek, "not-found");

  // ivy.wang, bob's manager's manager, reads it without the confidential
  // fields.
  const ivyView = await portal.instance("ivy.wang", id);
  assert.deepEqual([...ivyView.redacted_fields].sort(), ["recommendation", "self_assessment"]);
  const ivy = await portal.open("ivy.wang");
  await portal.go(ivy, `#/instance/${id}`);
  const form = ivy.locator(".form-values");
  assert.equal(await form.locator('[data-field="grade"]').innerText(), "P5");
  assert.equal(await form.locator('[data-field="self_assessment"]').innerText(), "Confidential: hidden from you");
  assert.equal(await form.locator('[data-field="recommendation"]').innerText(), "Confidential: hidden from you");
  assert.doesNotMatch(await ivy.locator("main").innerText(), /Closed twelve dealer accounts/);
  await portal.screenshot(ivy, "redacted");

  // alice.chen, the supervisor who decides the first step, sees it all.
  const alice = await portal.open("alice.chen");
  await portal.go(alice, `#/task/${taskId}`);
  assert.match(await alice.locator('.form-values [data-field="self_assessment"]').innerText(), /Closed twelve dealer accounts/);
});
