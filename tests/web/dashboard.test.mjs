// The dashboard: dealer claims are started, approved, rejected and returned
// with reasons; an auditor's dashboard for dealer-claim shows those
// figures in its four charts (in English and in Chinese, on a desktop and
// a phone); an applicant is told that he may not read the reports.
import assert from "node:assert/strict";
import test from "node:test";
import { PHONE, assertControlsLabelled, browserTest, eventually, ready } from "./harness.mjs";

const TIME_ZONE = "Asia/Shanghai";

// "YYYY-MM-DD" of now in the calendar's zone (dealer-claim's cn-mainland).
function dayIn(zone, date = new Date()) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(date);
}

function addDays(day, n) {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + n);
  return date.toISOString().slice(0, 10);
}

function mondayOf(day) {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() + 6) % 7));
  return date.toISOString().slice(0, 10);
}

async function startClaim(portal, dealer, amount) {
  const started = await portal.ctl(
    "bob.zhang", "instance", "start", "dealer-claim",
    "--form", `dealer_id=${dealer}`, "--form", "claim_type=warranty", "--form", `amount=${amount}`,
    "--form", "region=sales-east", "--form", "description=Warranty repair of ten vehicles",
  );
  return started.instance.id;
}

async function reviewTask(portal, id) {
  const instance = await portal.instance("bob.zhang", id);
  const task = (instance.pending_tasks ?? []).find((candidate) => candidate.assignee === "tina.luo");
  assert.ok(task, `${id} waits for tina.luo: ${JSON.stringify(instance.pending_tasks)}`);
  return task;
}

// Waits for the charts to be drawn (or refused) and resolves to their
// state, with what went wrong when a report could not be read.
async function chartsState(page) {
  const charts = page.locator('.dashboard-charts:not([data-state="loading"])');
  await charts.waitFor();
  const state = await charts.getAttribute("data-state");
  const errors = await charts.locator(".error").allInnerTexts();
  return { state, errors };
}

// The rows of a chart's table, as arrays of cell texts (read also while
// the table is folded away).
async function tableRows(figure) {
  return figure.locator("details.chart-data tbody tr").evaluateAll((rows) =>
    rows.map((row) => [...row.children].map((cell) => cell.textContent.trim())),
  );
}

browserTest(test, "the dashboard charts a process's backlog, SLA trend, reasons and decision times", "dashboard", async (portal) => {
  // Six claims: one approved, one rejected, two returned for the same
  // reason and one for another, one left waiting at claims review.
  const ids = [];
  for (const [dealer, amount] of [["D-2001", "1200"], ["D-2002", "800"], ["D-2003", "300"], ["D-2004", "450"], ["D-2005", "990"], ["D-2006", "150"]]) {
    ids.push(await startClaim(portal, dealer, amount));
  }
  const [approved, rejected, returnedA, returnedB, returnedC] = ids;
  await portal.ctl("tina.luo", "task", "approve", (await reviewTask(portal, approved)).id, "--comment", "In order");
  await portal.ctl("tina.luo", "task", "reject", (await reviewTask(portal, rejected)).id, "--reason", "data_mismatch", "--comment", "Amounts differ");
  for (const id of [returnedA, returnedB]) {
    await portal.ctl("tina.luo", "task", "return", (await reviewTask(portal, id)).id, "--reason", "missing_invoice", "--comment", "Attach the invoice");
  }
  await portal.ctl("tina.luo", "task", "return", (await reviewTask(portal, returnedC)).id, "--reason", "wrong_amount", "--comment", "Check the amount");

  // What is open now, read from the instances themselves: the waiting
  // claim's review (for each claims reviewer) and, if the approved claim
  // was sampled, its quality check.
  let openTasks = 0;
  for (const id of ids) openTasks += ((await portal.instance("bob.zhang", id)).pending_tasks ?? []).length;
  assert.ok(openTasks >= 2, `open tasks: ${openTasks}`);

  const today = dayIn(TIME_ZONE);
  const period = ["--definition", "dealer-claim", "--from", addDays(today, -29), "--to", today];
  // The projections trail the commits by a moment.
  await eventually(async () => {
    const quality = await portal.ctl("olivia.ke", "report", "quality", ...period);
    const backlog = await portal.ctl("olivia.ke", "report", "backlog", ...period);
    const reasons = (quality.reasons ?? []).reduce((sum, reason) => sum + Number(reason.count), 0);
    const open = (backlog.rows ?? []).reduce((sum, row) => sum + Number(row.open ?? 0), 0);
    return reasons === 4 && open === openTasks;
  }, "the reports to count the decisions");

  // The auditor opens the dashboard from the navigation; dealer-claim and
  // the last 30 days are chosen for her.
  const olivia = await portal.open("olivia.ke", { timezoneId: TIME_ZONE });
  await olivia.getByRole("navigation").getByRole("link", { name: "Dashboard" }).click();
  await ready(olivia);
  assert.match(olivia.url(), /#\/dashboard$/);
  await olivia.getByLabel("Process", { exact: true }).selectOption("dealer-claim");
  assert.equal(await olivia.getByLabel("From", { exact: true }).inputValue(), addDays(today, -29));
  assert.equal(await olivia.getByLabel("To", { exact: true }).inputValue(), today);
  await olivia.getByRole("button", { name: "Show" }).click();
  assert.deepEqual(await chartsState(olivia), { state: "loaded", errors: [] });

  // Every chart is a figure named by its title, with an SVG that says
  // what it shows.
  const figures = {
    backlog: olivia.getByRole("figure", { name: "Backlog by age" }),
    sla: olivia.getByRole("figure", { name: "SLA compliance by week" }),
    pareto: olivia.getByRole("figure", { name: "Returns and rejections by reason" }),
    timing: olivia.getByRole("figure", { name: "Time to decision by step" }),
  };
  for (const figure of Object.values(figures)) {
    await figure.waitFor();
    assert.ok((await figure.getByRole("img").getAttribute("aria-label")).length > 20);
  }

  // Backlog: every open task is under a day old.
  const backlog = figures.backlog;
  assert.equal(await backlog.locator('[data-bucket="under_1d"]').getAttribute("data-count"), String(openTasks));
  for (const bucket of ["1d_3d", "3d_7d", "7d_30d", "over_30d"]) {
    assert.equal(await backlog.locator(`[data-bucket="${bucket}"]`).getAttribute("data-count"), "0");
  }
  assert.match(await backlog.locator(".chart-summary").innerText(), new RegExp(`^${openTasks} open tasks, 0 overdue`));
  assert.deepEqual((await tableRows(backlog)).find((row) => row[0] === "Total open"), ["Total open", String(openTasks)]);

  // SLA: the five reviews were decided at once, within claims review's
  // SLA, all this week.
  const week = mondayOf(today);
  const sla = figures.sla;
  assert.equal(await sla.locator(`.point[data-period="${week}"]`).getAttribute("data-percent"), "100");
  assert.match(await sla.getByRole("img").getAttribute("aria-label"), new RegExp(`${week} 100%`));
  assert.match(await sla.locator(".chart-summary").innerText(), /^100% met over the period: 5 of 5 tasks with an SLA; 0 deadlines missed/);
  assert.deepEqual(await tableRows(sla), [[week, "5", "5", "100%", "0", "0"]]);

  // Pareto: the reasons used, most frequent first, with their counts and
  // the cumulative share.
  const pareto = figures.pareto;
  const bars = await pareto.locator(".bar-row").evaluateAll((rows) =>
    rows.map((row) => [row.dataset.action, row.dataset.code, row.dataset.count, row.querySelector(".value").textContent]),
  );
  assert.equal(bars.length, 3);
  assert.deepEqual(bars[0], ["RETURN", "missing_invoice", "2", "2 · 50%"]);
  assert.deepEqual(bars.slice(1).map((bar) => bar[1]).sort(), ["data_mismatch", "wrong_amount"]);
  assert.deepEqual(bars.slice(1).map((bar) => [bar[2], bar[3]]), [["1", "1 · 75%"], ["1", "1 · 100%"]]);
  assert.equal(bars.find((bar) => bar[1] === "data_mismatch")[0], "REJECT");
  assert.match(await pareto.locator(".chart-summary").innerText(), /^Returns: 3, rejections: 1 in the period/);
  const reasonRows = await tableRows(pareto);
  assert.deepEqual(reasonRows[0], ["Invoice missing; attach it", "missing_invoice", "Returns", "2", "50%", "50%"]);
  assert.deepEqual(reasonRows.find((row) => row[1] === "data_mismatch").slice(0, 5), ["Data does not match system records", "data_mismatch", "Rejections", "1", "25%"]);

  // Timing: claims review, with its five decisions.
  const timing = figures.timing;
  assert.equal(await timing.locator('.bar-row[data-step="claim-review"]').getAttribute("data-count"), "5");
  assert.match(await timing.locator('.bar-row[data-step="claim-review"]').textContent(), /Claims review/);
  const review = (await tableRows(timing)).find((row) => row[1] === "claim-review");
  assert.deepEqual(review.slice(0, 3), ["Claims review", "claim-review", "5"]);
  assert.match(review[3], /^\d+(\.\d)? (s|min)$/);

  await assertControlsLabelled(olivia, "dashboard");
  for (const summary of await olivia.locator("details.chart-data summary").all()) await summary.click();
  await portal.screenshot(olivia, "desktop");

  // The SLA trend by day: one point, today's.
  await olivia.getByLabel("SLA trend by").selectOption({ label: "Day" });
  await olivia.getByRole("button", { name: "Show" }).click();
  await olivia.getByRole("figure", { name: "SLA compliance by day" }).waitFor();
  assert.equal(await olivia.locator(`.point[data-period="${today}"]`).getAttribute("data-percent"), "100");
  assert.equal(await olivia.locator(".point").count(), 1);

  // A period before any of this: the charts say there is nothing.
  await olivia.getByLabel("From", { exact: true }).fill(addDays(today, -60));
  await olivia.getByLabel("To", { exact: true }).fill(addDays(today, -40));
  await olivia.getByRole("button", { name: "Show" }).click();
  await olivia.getByText("No returns or rejections in this period.").waitFor();
  await olivia.getByText("No decisions in this period.").waitFor();
  // The backlog is now, whatever the period.
  assert.equal(await olivia.locator('[data-bucket="under_1d"]').getAttribute("data-count"), String(openTasks));

  // A phone, in Chinese: the same figures, and nothing wider than the
  // screen.
  const phone = await portal.open("olivia.ke", { viewport: PHONE, locale: "zh-CN", timezoneId: TIME_ZONE });
  await portal.go(phone, "#/dashboard/dealer-claim");
  assert.deepEqual(await chartsState(phone), { state: "loaded", errors: [] });
  await phone.getByRole("navigation").getByRole("link", { name: "看板" }).waitFor();
  await phone.getByRole("figure", { name: "待办积压（按时长）" }).waitFor();
  await phone.getByRole("figure", { name: "退回与驳回原因（帕累托）" }).waitFor();
  assert.equal(await phone.locator('[data-chart="pareto"] .bar-row').first().getAttribute("data-code"), "missing_invoice");
  assert.match(await phone.locator('[data-chart="timing"] .bar-row[data-step="claim-review"]').textContent(), /Claims review/);
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone`);
  await portal.screenshot(phone, "phone");

  // bob.zhang files claims but may not read their reports: the server's
  // refusal, said plainly, and no charts.
  const bob = await portal.open("bob.zhang");
  await bob.getByRole("navigation").getByRole("link", { name: "Dashboard" }).click();
  await ready(bob);
  await bob.getByLabel("Process", { exact: true }).selectOption("dealer-claim");
  await bob.getByRole("button", { name: "Show" }).click();
  assert.equal((await chartsState(bob)).state, "denied");
  assert.match(await bob.getByRole("alert").innerText(), /You may not read this process's reports\./);
  assert.equal(await bob.getByRole("figure").count(), 0);
  await portal.screenshot(bob, "denied");
});
