// Admin: the published definitions with their versions and YAML, and the
// business calendars with their holidays and make-up workdays.
import { toJson } from "@bufbuild/protobuf";
import { stringify } from "yaml";
import { calendars, definitions, isNotFound } from "../api";
import { h } from "../dom";
import { formatTime } from "../format";
import { language, t } from "../i18n";
import { Weekday, type PublishedCalendar } from "../../gen/signoff/v1/calendar_pb";
import { WorkflowDefinitionSchema } from "../../gen/signoff/v1/definition_pb";
import type { PublishedDefinition } from "../../gen/signoff/v1/service_pb";
import { getDefinition, section, userLabel } from "./common";
import { notFoundView } from "./notfound";

// Older versions beyond these are left out of the list.
const VERSIONS_SHOWN = 20;

export async function adminView(): Promise<HTMLElement> {
  const [defs, cals] = await Promise.all([definitions.listDefinitions({}), calendars.listCalendars({})]);
  return h(
    "div",
    { class: "admin" },
    h("h1", null, t("admin.title")),
    section(
      t("admin.definitions"),
      h(
        "table",
        null,
        h("thead", null, h("tr", null, h("th", { scope: "col" }, t("admin.name")), h("th", { scope: "col" }, t("admin.key")), h("th", { scope: "col" }, t("admin.version")), h("th", { scope: "col" }, t("admin.published")))),
        h(
          "tbody",
          null,
          defs.definitions.map((summary) =>
            h(
              "tr",
              null,
              h("td", null, h("a", { href: `#/admin/definition/${encodeURIComponent(summary.key)}` }, summary.name || summary.key)),
              h("td", null, h("code", null, summary.key)),
              h("td", null, `v${summary.latestVersion}`),
              h("td", null, formatTime(summary.publishedAt)),
            ),
          ),
        ),
      ),
    ),
    section(
      t("admin.calendars"),
      h(
        "ul",
        null,
        cals.calendars.map((calendar) =>
          h(
            "li",
            null,
            h("a", { href: `#/admin/calendar/${encodeURIComponent(calendar.name)}` }, calendar.name),
            h("span", { class: "muted" }, ` v${calendar.version} · ${calendar.calendar?.timeZone ?? ""} · ${calendar.calendar?.description ?? ""}`),
          ),
        ),
      ),
    ),
  );
}

export function definitionYaml(published: PublishedDefinition): string {
  if (!published.definition) return "";
  // Field names as the shipped YAML spells them.
  const json = toJson(WorkflowDefinitionSchema, published.definition, { useProtoFieldName: true });
  return stringify(json, { lineWidth: 100 });
}

export async function definitionAdminView(key: string, versionText: string | undefined): Promise<HTMLElement> {
  let latest: PublishedDefinition;
  try {
    latest = await getDefinition(key, 0);
  } catch (error) {
    if (isNotFound(error)) return notFoundView();
    throw error;
  }
  const wanted = Number(versionText) || latest.version;
  const numbers: number[] = [];
  for (let version = latest.version; version >= 1 && numbers.length < VERSIONS_SHOWN; version--) numbers.push(version);
  const versions = await Promise.all(numbers.map((version) => (version === latest.version ? latest : getDefinition(key, version))));
  const shown = versions.find((version) => version.version === wanted) ?? latest;
  return h(
    "div",
    { class: "definition-admin" },
    h("p", { class: "crumbs" }, h("a", { href: "#/admin" }, t("nav.admin")), " / ", key),
    h("h1", null, `${latest.definition?.name || key} `, h("code", null, key)),
    latest.definition?.description ? h("p", { class: "description" }, latest.definition.description) : null,
    section(
      t("admin.versions"),
      h(
        "table",
        null,
        h("thead", null, h("tr", null, h("th", { scope: "col" }, t("admin.version")), h("th", { scope: "col" }, t("admin.published")), h("th", { scope: "col" }, t("admin.by")), h("th", { scope: "col" }, t("admin.origin")))),
        h(
          "tbody",
          null,
          versions.map((version) =>
            h(
              "tr",
              { class: version.version === shown.version ? "current" : "" },
              h(
                "td",
                null,
                h(
                  "a",
                  { href: `#/admin/definition/${encodeURIComponent(key)}/${version.version}`, "aria-current": version.version === shown.version ? "true" : undefined },
                  `v${version.version}`,
                ),
              ),
              h("td", null, formatTime(version.publishedAt)),
              h("td", null, version.publishedBy ? userLabel(version.publishedBy) : ""),
              h("td", null, version.origin || t("admin.api")),
            ),
          ),
        ),
      ),
    ),
    section(t("admin.yaml", { version: shown.version }), h("pre", { class: "yaml", tabindex: 0, "aria-label": t("admin.yaml", { version: shown.version }) }, definitionYaml(shown))),
  );
}

function weekdayName(day: Weekday): string {
  return t(`weekday.${Weekday[day]}` as never);
}

export async function calendarAdminView(name: string): Promise<HTMLElement> {
  let published: PublishedCalendar | undefined;
  try {
    published = (await calendars.getCalendar({ name, version: 0 })).published;
  } catch (error) {
    if (isNotFound(error)) return notFoundView();
    throw error;
  }
  const calendar = published?.calendar;
  if (!published || !calendar) return notFoundView();
  const workingDays = calendar.workingDays.length
    ? calendar.workingDays
    : [Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY];
  const hours = calendar.workingHours.length ? calendar.workingHours : [{ start: "09:00", end: "18:00" }];
  return h(
    "div",
    { class: "calendar-admin" },
    h("p", { class: "crumbs" }, h("a", { href: "#/admin" }, t("nav.admin")), " / ", name),
    h("h1", null, name),
    calendar.description ? h("p", { class: "description" }, calendar.description) : null,
    h(
      "dl",
      { class: "summary" },
      h("dt", null, t("calendar.version")), h("dd", null, `v${published.version} · ${formatTime(published.publishedAt)}`),
      h("dt", null, t("calendar.timeZone")), h("dd", null, calendar.timeZone),
      h("dt", null, t("calendar.workingDays")), h("dd", null, workingDays.map(weekdayName).join(", ")),
      h("dt", null, t("calendar.workingHours")), h("dd", null, hours.map((span) => `${span.start}–${span.end}`).join(", ")),
    ),
    calendar.years.map((year) =>
      section(
        String(year.year),
        h(
          "div",
          { class: "columns" },
          h("div", null, h("h3", null, t("calendar.holidays", { n: year.holidays.length })), dateList(year.holidays, "holiday")),
          h("div", null, h("h3", null, t("calendar.workdays", { n: year.workdays.length })), dateList(year.workdays, "workday")),
        ),
      ),
    ),
  );
}

// Dates grouped by month, each with its weekday, so that a make-up
// Saturday reads as one.
function dateList(dates: string[], kind: string): HTMLElement {
  if (!dates.length) return h("p", { class: "muted" }, "—");
  const byMonth = new Map<string, string[]>();
  for (const date of [...dates].sort()) {
    const month = date.slice(0, 7);
    byMonth.set(month, [...(byMonth.get(month) ?? []), date]);
  }
  const weekday = new Intl.DateTimeFormat(language() === "zh" ? "zh-CN" : "en-GB", { weekday: "short", timeZone: "UTC" });
  return h(
    "dl",
    { class: `dates dates-${kind}` },
    [...byMonth].map(([month, list]) => [
      h("dt", null, month),
      h("dd", null, list.map((date) => h("span", { class: `badge badge-${kind === "holiday" ? "warn" : "info"}` }, `${date.slice(8)} ${weekday.format(new Date(`${date}T00:00:00Z`))}`))),
    ]),
  );
}
