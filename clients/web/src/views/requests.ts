// My requests: what the caller started (or was copied on), with its status
// and what it waits for.
import { instances } from "../api";
import { h, replaceChildren, uniqueId } from "../dom";
import { formatTime } from "../format";
import { t } from "../i18n";
import { me } from "../session";
import { InstanceStatus } from "../../gen/signoff/v1/instance_pb";
import type { InstanceView } from "../../gen/signoff/v1/service_pb";
import { displayName, errorBox, getDefinition, loadUsers, mayAppeal, statusBadge, userLabel } from "./common";
import { toDate } from "../format";

const LIMIT = 200;

// Which requests: those the caller filed, those they were copied on, and
// those about them (they are the subject, whoever filed them).
type Scope = "mine" | "copied" | "about";

async function load(status: InstanceStatus, scope: Scope): Promise<InstanceView[]> {
  const all: InstanceView[] = [];
  let pageToken = "";
  do {
    const page = await instances.listInstances({
      applicant: scope === "mine" ? me() : "",
      ccToMe: scope === "copied",
      subject: scope === "about" ? me() : "",
      status,
      pageSize: 50,
      pageToken,
    });
    all.push(...page.instances);
    pageToken = page.nextPageToken;
  } while (pageToken && all.length < LIMIT);
  return all;
}

const STATUSES = [
  InstanceStatus.RUNNING,
  InstanceStatus.RETURNED,
  InstanceStatus.APPROVED,
  InstanceStatus.REJECTED,
  InstanceStatus.WITHDRAWN,
  InstanceStatus.CANCELLED,
];

export async function requestsView(): Promise<HTMLElement> {
  await loadUsers().catch(() => undefined);
  const filter = { status: InstanceStatus.INSTANCE_STATUS_UNSPECIFIED, scope: "mine" as Scope };
  const list = h("div", { class: "request-list", "aria-live": "polite" });
  // The caller's rejected requests that may still be appealed (see
  // mayAppeal): only those whose window is open need their history read.
  let appealable = new Set<string>();
  const findAppealable = async (found: InstanceView[]) => {
    const candidates = found.filter(
      (instance) =>
        instance.applicant === me() &&
        instance.status === InstanceStatus.REJECTED &&
        (toDate(instance.appealUntil)?.getTime() ?? 0) > Date.now(),
    );
    const checked = await Promise.all(
      candidates.map(async (instance) => {
        const [history, definition] = await Promise.all([
          instances.getHistory({ instanceId: instance.id }),
          getDefinition(instance.definitionKey, instance.definitionVersion),
        ]);
        return mayAppeal(instance, history.events, definition) ? instance.id : null;
      }),
    );
    appealable = new Set(checked.filter((id): id is string => id !== null));
  };

  const row = (instance: InstanceView) => {
    const waiting = instance.pendingTasks.map((task) => task.assignee || task.candidateGroup?.role || "").filter(Boolean);
    let next: string | null = null;
    if (instance.applicant === me()) {
      if (instance.status === InstanceStatus.RETURNED) next = t("requests.needsResubmit");
      else if (appealable.has(instance.id)) next = t("requests.mayAppeal", { time: formatTime(instance.appealUntil) });
    }
    return h(
      "article",
      { class: "request", dataset: { instanceId: instance.id, status: InstanceStatus[instance.status] } },
      h(
        "h2",
        null,
        h("a", { href: `#/instance/${encodeURIComponent(instance.id)}` }, `${instance.definitionKey} · ${instance.subject || instance.id}`),
        " ",
        statusBadge(instance.status),
        instance.outcome ? [" ", h("span", { class: "badge badge-info business-outcome", dataset: { outcome: instance.outcome } }, instance.outcome)] : null,
      ),
      h(
        "p",
        { class: "meta" },
        filter.scope !== "mine" ? [instance.filedFor ? t("case.filedBy") : t("inbox.applicant"), ": ", userLabel(instance.applicant), " · "] : null,
        filter.scope === "mine" && instance.filedFor ? [h("span", { class: "filed-for" }, t("case.filedFor", { user: displayName(instance.filedFor) })), " · "] : null,
        t("requests.updated"), " ", formatTime(instance.updatedAt),
        waiting.length ? [" · ", t("requests.waitingOn"), " ", waiting.map((user, i) => [i ? ", " : "", userLabel(user)])] : null,
      ),
      next ? h("p", { class: "next" }, h("a", { href: `#/instance/${encodeURIComponent(instance.id)}` }, next)) : null,
    );
  };

  const render = async () => {
    replaceChildren(list, h("p", { class: "loading" }, t("common.loading")));
    try {
      const found = await load(filter.status, filter.scope);
      await findAppealable(found);
      replaceChildren(list, found.length ? found.map(row) : h("p", { class: "empty" }, t("requests.none")));
    } catch (error) {
      replaceChildren(list, errorBox(error));
    }
  };

  const statusId = uniqueId("status");
  const scopes: [Scope, string][] = [
    ["mine", t("requests.mine")],
    ["copied", t("requests.copied")],
    ["about", t("requests.aboutMe")],
  ];
  const filters = h(
    "form",
    { class: "filters", "aria-label": t("inbox.filters"), onsubmit: (event: Event) => event.preventDefault() },
    h(
      "div",
      { class: "field inline" },
      h("label", { for: statusId }, t("requests.status")),
      h(
        "select",
        {
          id: statusId,
          onchange: (event: Event) => {
            filter.status = Number((event.target as HTMLSelectElement).value) as InstanceStatus;
            void render();
          },
        },
        h("option", { value: "0" }, t("requests.anyStatus")),
        STATUSES.map((status) => h("option", { value: String(status) }, t(`status.${InstanceStatus[status]}` as never))),
      ),
    ),
    h(
      "fieldset",
      { class: "choices scope" },
      h("legend", { class: "visually-hidden" }, t("requests.show")),
      scopes.map(([scope, label]) =>
        h(
          "label",
          { class: "choice" },
          h("input", {
            type: "radio",
            name: "scope",
            value: scope,
            checked: scope === filter.scope,
            onchange: () => {
              filter.scope = scope;
              void render();
            },
          }),
          " ",
          label,
        ),
      ),
    ),
  );
  await render();
  return h("div", { class: "requests" }, h("h1", null, t("requests.title")), filters, list);
}
