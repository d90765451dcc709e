// Admin pages: the published definitions with their versions and YAML, and
// the business calendar with its holidays and make-up workdays.
import assert from "node:assert/strict";
import test from "node:test";
import { browserTest, ready } from "./harness.mjs";

browserTest(test, "admin shows definitions with versions and YAML, and calendars with holidays and make-up days", "admin", async (portal) => {
  const carl = await portal.open("carl.yuan");
  await carl.getByRole("navigation").getByRole("link", { name: "Admin" }).click();
  await ready(carl);
  const published = await portal.ctl("carl.yuan", "definition", "list");
  const keys = published.definitions.map((definition) => definition.key).sort();
  const listed = await carl.locator(".admin table tbody tr td:nth-child(2)").allInnerTexts();
  assert.deepEqual(listed.sort(), keys);
  await portal.screenshot(carl, "admin");

  await carl.getByRole("link", { name: "Dealer claim" }).click();
  await ready(carl);
  assert.match(carl.url(), /#\/admin\/definition\/dealer-claim$/);
  const yaml = await carl.locator("pre.yaml").innerText();
  assert.match(yaml, /^key: dealer-claim$/m);
  assert.match(yaml, /^calendar: cn-mainland$/m);
  assert.match(yaml, /- id: claim-review/);
  assert.match(yaml, /code: wrong_amount/);
  assert.equal(await carl.locator("table tbody tr").count(), 1);
  assert.match(await carl.locator("table tbody tr").innerText(), /v1[\s\S]*file:dealer-claim.yaml/);
  await portal.screenshot(carl, "definition");

  const calendar = (await portal.ctl("carl.yuan", "calendar", "get", "cn-mainland")).published.calendar;
  await portal.go(carl, "#/admin/calendar/cn-mainland");
  assert.match(await carl.locator("dl.summary").innerText(), new RegExp(calendar.time_zone));
  const year = calendar.years[0];
  const section = carl.locator("section", { has: carl.locator("h2", { hasText: String(year.year) }) });
  assert.match(await section.locator("h3").first().innerText(), new RegExp(`\\(${year.holidays.length}\\)`));
  assert.equal(await section.locator(".dates-holiday .badge").count(), year.holidays.length);
  assert.equal(await section.locator(".dates-workday .badge").count(), year.workdays.length);
  await portal.screenshot(carl, "calendar");
});
