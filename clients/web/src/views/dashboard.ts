// Dashboard: a process's KPI reports over a period as four charts: the
// backlog by age, the SLA compliance trend, the Pareto of return and
// rejection reasons, and the time to decision by step. The server decides
// who may read them; anyone else sees why not.
import { Code, asConnectError, definitions, reports } from "../api";
import { h, replaceChildren, uniqueId } from "../dom";
import { formatTime } from "../format";
import { t } from "../i18n";
import {
  ReportGrouping,
  type BacklogReport,
  type QualityReport,
  type SlaReport,
  type TimingReport,
} from "../../gen/signoff/v1/reports_pb";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ReportRequestSchema } from "../../gen/signoff/v1/reports_pb";
import type { PublishedDefinition } from "../../gen/signoff/v1/service_pb";
import { deniedBox, errorBox, getDefinition, stepName } from "./common";
import {
  barChart,
  dataTable,
  empty,
  figure,
  formatDuration,
  formatPercent,
  paretoChart,
  percentLine,
  type Point,
} from "./charts";

const DEFAULT_DAYS = 30;
// The server answers for at most 366 days.
const MAX_DAYS = 366;

// The filters, kept while the portal is open.
const filters = {
  key: "",
  from: "",
  to: "",
  trend: ReportGrouping.BY_WEEK as ReportGrouping,
};

// Today in the caller's zone, "YYYY-MM-DD".
function today(): string {
  const now = new Date();
  return isoDay(new Date(Date.UTC(now.getFullYear(), now.getMonth(), now.getDate())));
}

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function parseDay(day: string): Date | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return null;
  const date = new Date(`${day}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? null : date;
}

function addDays(day: string, n: number): string {
  const date = parseDay(day) ?? new Date();
  date.setUTCDate(date.getUTCDate() + n);
  return isoDay(date);
}

// The periods of the range as the report names them: each day, or each
// week's Monday.
function periods(from: string, to: string, grouping: ReportGrouping): string[] {
  const start = parseDay(from);
  const end = parseDay(to);
  if (!start || !end || start > end) return [];
  const found: string[] = [];
  const cursor = new Date(start);
  if (grouping === ReportGrouping.BY_WEEK) cursor.setUTCDate(cursor.getUTCDate() - ((cursor.getUTCDay() + 6) % 7));
  const stepDays = grouping === ReportGrouping.BY_WEEK ? 7 : 1;
  while (cursor <= end && found.length <= MAX_DAYS) {
    found.push(isoDay(cursor));
    cursor.setUTCDate(cursor.getUTCDate() + stepDays);
  }
  return found;
}

type Request = MessageInitShape<typeof ReportRequestSchema>;

export async function dashboardView(initialKey: string | undefined): Promise<HTMLElement> {
  const listed = await definitions.listDefinitions({});
  const keys = listed.definitions.map((summary) => summary.key);
  if (initialKey) filters.key = initialKey;
  if (!filters.key || !keys.includes(filters.key)) filters.key = keys[0] ?? "";
  if (!filters.to) filters.to = today();
  if (!filters.from) filters.from = addDays(filters.to, -(DEFAULT_DAYS - 1));

  const charts = h("div", { class: "dashboard-charts", "aria-live": "polite", dataset: { state: "loading" } });
  const problem = h("div", { class: "filter-problem", "aria-live": "assertive" });

  const ids = { key: uniqueId("dash-def"), from: uniqueId("dash-from"), to: uniqueId("dash-to"), trend: uniqueId("dash-trend") };
  const form = h(
    "form",
    {
      class: "filters dashboard-filters",
      "aria-label": t("dash.filters"),
      onsubmit: (event: Event) => {
        event.preventDefault();
        const data = new FormData(form);
        filters.key = String(data.get("definition") ?? "");
        filters.from = String(data.get("from") ?? "");
        filters.to = String(data.get("to") ?? "");
        filters.trend = Number(data.get("trend")) as ReportGrouping;
        void load();
      },
    },
    h(
      "div",
      { class: "field inline" },
      h("label", { for: ids.key }, t("dash.definition")),
      h(
        "select",
        { id: ids.key, name: "definition" },
        listed.definitions.map((summary) =>
          h("option", { value: summary.key, selected: summary.key === filters.key }, summary.name ? `${summary.name} (${summary.key})` : summary.key),
        ),
      ),
    ),
    h("div", { class: "field inline" }, h("label", { for: ids.from }, t("dash.from")), h("input", { type: "date", id: ids.from, name: "from", value: filters.from, required: true })),
    h("div", { class: "field inline" }, h("label", { for: ids.to }, t("dash.to")), h("input", { type: "date", id: ids.to, name: "to", value: filters.to, required: true })),
    h(
      "div",
      { class: "field inline" },
      h("label", { for: ids.trend }, t("dash.trendBy")),
      h(
        "select",
        { id: ids.trend, name: "trend" },
        h("option", { value: String(ReportGrouping.BY_WEEK), selected: filters.trend === ReportGrouping.BY_WEEK }, t("dash.byWeek")),
        h("option", { value: String(ReportGrouping.BY_DAY), selected: filters.trend === ReportGrouping.BY_DAY }, t("dash.byDay")),
      ),
    ),
    h("button", { type: "submit", class: "primary" }, t("dash.show")),
  );

  let generation = 0;
  const load = async () => {
    const current = ++generation;
    replaceChildren(problem);
    const from = parseDay(filters.from);
    const to = parseDay(filters.to);
    if (!from || !to || from > to) {
      replaceChildren(problem, h("p", { class: "error", role: "alert" }, t("dash.badRange")));
      return;
    }
    if ((to.getTime() - from.getTime()) / 86400000 + 1 > MAX_DAYS) {
      replaceChildren(problem, h("p", { class: "error", role: "alert" }, t("dash.tooLong", { n: MAX_DAYS })));
      return;
    }
    charts.dataset.state = "loading";
    charts.setAttribute("aria-busy", "true");
    replaceChildren(charts, h("p", { class: "loading", role: "status" }, t("common.loading")));
    const base = { definitionKey: filters.key, from: filters.from, to: filters.to };
    const by = (groupBy: ReportGrouping): Request => ({ ...base, groupBy });
    const [backlog, sla, quality, timing, published] = await Promise.allSettled([
      reports.getBacklogReport(by(ReportGrouping.REPORT_GROUPING_UNSPECIFIED)),
      reports.getSlaReport(by(filters.trend)),
      reports.getQualityReport(by(ReportGrouping.REPORT_GROUPING_UNSPECIFIED)),
      reports.getTimingReport(by(ReportGrouping.BY_STEP)),
      getDefinition(filters.key, 0),
    ]);
    if (current !== generation) return;
    charts.removeAttribute("aria-busy");
    const failures = [backlog, sla, quality, timing].filter((result) => result.status === "rejected");
    const denied = failures.find((result) => asConnectError(result.reason).code === Code.PermissionDenied);
    if (denied) {
      charts.dataset.state = "denied";
      replaceChildren(charts, deniedBox(denied.reason, t("dash.denied"), t("dash.deniedWho")));
      return;
    }
    const definition = published.status === "fulfilled" ? published.value : undefined;
    const request = { ...base, groupBy: filters.trend };
    replaceChildren(
      charts,
      backlog.status === "fulfilled" ? backlogChart(backlog.value) : failed("backlog", t("dash.backlog"), backlog.reason),
      sla.status === "fulfilled" ? slaChart(sla.value, request) : failed("sla", t("dash.sla"), sla.reason),
      quality.status === "fulfilled" ? paretoFigure(quality.value) : failed("pareto", t("dash.pareto"), quality.reason),
      timing.status === "fulfilled" ? timingChart(timing.value, definition) : failed("timing", t("dash.timing"), timing.reason),
    );
    charts.dataset.state = failures.length ? "partial" : "loaded";
  };

  await load();
  return h(
    "div",
    { class: "dashboard" },
    h("h1", null, t("dash.title")),
    h("p", { class: "hint" }, t("dash.hint")),
    form,
    problem,
    charts,
  );
}

function failed(id: string, title: string, error: unknown): HTMLElement {
  return h("section", { class: "chart card", dataset: { chart: id } }, h("h2", null, title), errorBox(error));
}

function backlogChart(report: BacklogReport): HTMLElement {
  const totals = { open: 0, overdue: 0, buckets: [0, 0, 0, 0, 0] };
  for (const row of report.rows) {
    totals.open += Number(row.open);
    totals.overdue += Number(row.overdue);
    [row.under1d, row.from1dTo3d, row.from3dTo7d, row.from7dTo30d, row.over30d].forEach((value, i) => {
      totals.buckets[i] += Number(value);
    });
  }
  const names = [t("dash.age.under1d"), t("dash.age.1to3d"), t("dash.age.3to7d"), t("dash.age.7to30d"), t("dash.age.over30d")];
  const bucketIds = ["under_1d", "1d_3d", "3d_7d", "7d_30d", "over_30d"];
  const title = t("dash.backlog");
  const summary = t("dash.backlogSummary", { open: totals.open, overdue: totals.overdue, time: formatTime(report.asOf) });
  const chart =
    totals.open === 0
      ? empty(t("dash.noOpen"))
      : barChart(
          `${title}: ${names.map((name, i) => `${name} ${totals.buckets[i]}`).join(", ")}`,
          names.map((name, i) => ({
            label: name,
            values: [totals.buckets[i]],
            texts: [String(totals.buckets[i])],
            data: { "data-bucket": bucketIds[i], "data-count": String(totals.buckets[i]) },
          })),
          ["series-open"],
        );
  const table = dataTable(
    title,
    [t("dash.age"), t("dash.openTasks")],
    [...names.map((name, i) => [name, totals.buckets[i]]), [t("dash.total"), totals.open], [t("dash.overdue"), totals.overdue]],
    [false, true],
  );
  return figure("backlog", title, summary, chart, table);
}

function slaChart(report: SlaReport, request: { from: string; to: string; groupBy: ReportGrouping }): HTMLElement {
  const byGroup = new Map(report.rows.map((row) => [row.group, row]));
  const points: Point[] = periods(request.from, request.to, request.groupBy).map((period) => {
    const row = byGroup.get(period);
    const withSla = Number(row?.tasksWithSla ?? 0);
    return {
      label: period,
      value: withSla > 0 ? row!.compliancePercent : null,
      text: withSla > 0 ? formatPercent(row!.compliancePercent) : "",
      data: { "data-period": period, "data-percent": withSla > 0 ? String(row!.compliancePercent) : "" },
    };
  });
  let tasks = 0;
  let met = 0;
  let breaches = 0;
  for (const row of report.rows) {
    tasks += Number(row.tasksWithSla);
    met += Number(row.met);
    breaches += Number(row.breaches);
  }
  const title = request.groupBy === ReportGrouping.BY_DAY ? t("dash.slaByDay") : t("dash.slaByWeek");
  const overall = tasks > 0 ? formatPercent((met / tasks) * 100) : "–";
  const summary = t("dash.slaSummary", { percent: overall, met, tasks, breaches });
  const measured = points.filter((point) => point.value !== null);
  const chart =
    measured.length === 0
      ? empty(t("dash.noSla"))
      : percentLine(`${title}: ${measured.map((point) => `${point.label} ${point.text}`).join(", ")}`, points);
  const rows = [...report.rows]
    .sort((a, b) => a.group.localeCompare(b.group))
    .map((row) => [row.group, Number(row.tasksWithSla), Number(row.met), Number(row.tasksWithSla) > 0 ? formatPercent(row.compliancePercent) : "–", Number(row.breaches), Number(row.escalations)]);
  const table = dataTable(
    title,
    [request.groupBy === ReportGrouping.BY_DAY ? t("dash.day") : t("dash.week"), t("dash.withSla"), t("dash.met"), t("dash.compliance"), t("dash.breaches"), t("dash.escalations")],
    rows,
    [false, true, true, true, true, true],
  );
  return figure("sla", title, summary, chart, table);
}

function paretoFigure(report: QualityReport): HTMLElement {
  const title = t("dash.pareto");
  let returns = 0;
  let rejections = 0;
  for (const row of report.rows) {
    returns += Number(row.returns);
    rejections += Number(row.rejections);
  }
  const kindOf = (action: string) => (action === "REJECT" ? "reject" : "return");
  const actionName = (action: string) => (action === "REJECT" ? t("dash.rejections") : t("dash.returns"));
  const summary = t("dash.paretoSummary", { returns, rejections });
  const reasons = report.reasons;
  const chart =
    reasons.length === 0
      ? empty(t("dash.noReasons"))
      : paretoChart(
          `${title}: ${reasons.map((reason) => `${reason.label || reason.code} (${actionName(reason.action)}) ${reason.count}, ${formatPercent(reason.cumulativePercent)}`).join("; ")}`,
          reasons.map((reason) => ({
            label: reason.label || reason.code,
            kind: kindOf(reason.action),
            count: Number(reason.count),
            cumulative: reason.cumulativePercent,
            data: { "data-code": reason.code, "data-action": reason.action, "data-count": String(reason.count) },
          })),
          [
            ["return", t("dash.returns")],
            ["reject", t("dash.rejections")],
          ],
        );
  const table = dataTable(
    title,
    [t("dash.reason"), t("dash.code"), t("dash.action"), t("dash.count"), t("dash.share"), t("dash.cumulative")],
    reasons.map((reason) => [reason.label || reason.code, reason.code, actionName(reason.action), Number(reason.count), formatPercent(reason.percent), formatPercent(reason.cumulativePercent)]),
    [false, false, false, true, true, true],
  );
  return figure("pareto", title, summary, chart, table);
}

function timingChart(report: TimingReport, definition: PublishedDefinition | undefined): HTMLElement {
  const title = t("dash.timing");
  const rows = report.rows.filter((row) => Number(row.decisionWall?.count ?? 0) > 0);
  const name = (step: string) => stepName(definition, step);
  const chart =
    rows.length === 0
      ? empty(t("dash.noDecisions"))
      : barChart(
          `${title}: ${rows.map((row) => `${name(row.group)} p50 ${formatDuration(row.decisionWall!.p50Seconds)}, p90 ${formatDuration(row.decisionWall!.p90Seconds)}`).join("; ")}`,
          rows.map((row) => ({
            label: name(row.group),
            values: [row.decisionWall!.p50Seconds, row.decisionWall!.p90Seconds],
            texts: [formatDuration(row.decisionWall!.p50Seconds), formatDuration(row.decisionWall!.p90Seconds)],
            data: { "data-step": row.group, "data-count": String(row.decisionWall!.count) },
          })),
          ["series-p50", "series-p90"],
          ["p50", "p90"],
        );
  const table = dataTable(
    title,
    [t("dash.step"), t("dash.code"), t("dash.decisions"), "p50", "p90", t("dash.mean"), t("dash.p50Business")],
    rows.map((row) => [
      name(row.group),
      row.group,
      Number(row.decisionWall!.count),
      formatDuration(row.decisionWall!.p50Seconds),
      formatDuration(row.decisionWall!.p90Seconds),
      formatDuration(row.decisionWall!.meanSeconds),
      formatDuration(row.decisionBusiness?.p50Seconds ?? 0),
    ]),
    [false, false, true, true, true, true, true],
  );
  return figure("timing", title, t("dash.timingSummary"), chart, table);
}
