// The inbox: the caller's tasks and their groups' tasks to claim, with
// filters and a bulk approve.
import { Code, ConnectError } from "@connectrpc/connect";
import { definitions, newRequestId, tasks as taskApi } from "../api";
import { h, replaceChildren, uniqueId } from "../dom";
import { formatTime } from "../format";
import { t } from "../i18n";
import { me } from "../session";
import { Action } from "../../gen/signoff/v1/definition_pb";
import { TaskStatus, type Task } from "../../gen/signoff/v1/instance_pb";
import { displayName, errorBox, groupLabel, isDueSoon, loadUsers, notice, taskBadges, userLabel } from "./common";

const PAGE_LIMIT = 500;

async function loadInbox(): Promise<Task[]> {
  const all: Task[] = [];
  let pageToken = "";
  do {
    const page = await taskApi.listTasks({ pageSize: 100, pageToken });
    all.push(...page.tasks);
    pageToken = page.nextPageToken;
  } while (pageToken && all.length < PAGE_LIMIT);
  return all;
}

// A task the caller may approve without opening it: theirs, pending, and
// its step allows APPROVE with no comment required.
export function bulkApprovable(task: Task): boolean {
  return (
    task.status === TaskStatus.PENDING &&
    task.assignee === me() &&
    (task.actions?.allowed.includes(Action.APPROVE) ?? false) &&
    !(task.actions?.commentRequired.includes(Action.APPROVE) ?? false)
  );
}

export async function inboxView(): Promise<HTMLElement> {
  const [inbox, published] = await Promise.all([
    loadInbox(),
    definitions.listDefinitions({}),
    loadUsers().catch(() => undefined),
  ]);
  let items = inbox;
  const selected = new Set<string>();
  const filters = { definition: "", overdue: false, dueSoon: false };

  const status = h("div", { "aria-live": "polite" });
  const list = h("div", { class: "task-list" });
  const bulkButton = h("button", { type: "button", class: "primary", disabled: true }, t("inbox.approveSelected", { n: 0 }));
  const selectAllId = uniqueId("select-all");
  const selectAll = h("input", { type: "checkbox", id: selectAllId });

  const visible = () =>
    items.filter(
      (task) =>
        (!filters.definition || task.definitionKey === filters.definition) &&
        (!filters.overdue || task.overdue) &&
        (!filters.dueSoon || task.overdue || isDueSoon(task)),
    );

  const updateBulk = () => {
    const shown = visible().filter(bulkApprovable);
    for (const id of [...selected]) if (!shown.some((task) => task.id === id)) selected.delete(id);
    bulkButton.textContent = t("inbox.approveSelected", { n: selected.size });
    bulkButton.disabled = selected.size === 0;
    selectAll.disabled = shown.length === 0;
    selectAll.checked = shown.length > 0 && shown.every((task) => selected.has(task.id));
  };

  const claim = async (task: Task) => {
    try {
      await taskApi.claimTask({ requestId: newRequestId(), id: task.id });
      replaceChildren(status, notice(t("inbox.claimed", { step: task.stepName })));
      await reload();
    } catch (error) {
      replaceChildren(status, errorBox(error));
    }
  };

  const row = (task: Task) => {
    const approvable = bulkApprovable(task);
    const boxId = uniqueId("pick");
    const title = `${task.stepName || task.stepId} — ${task.definitionKey}`;
    return h(
      "article",
      { class: "task", dataset: { taskId: task.id, instanceId: task.instanceId } },
      h(
        "div",
        { class: "task-pick" },
        approvable
          ? h("input", {
              type: "checkbox",
              id: boxId,
              checked: selected.has(task.id),
              "aria-label": t("inbox.select", { title }),
              onchange: (event: Event) => {
                if ((event.target as HTMLInputElement).checked) selected.add(task.id);
                else selected.delete(task.id);
                updateBulk();
              },
            })
          : null,
      ),
      h(
        "div",
        { class: "task-main" },
        h("h2", null, h("a", { href: `#/task/${encodeURIComponent(task.id)}` }, title)),
        h(
          "p",
          { class: "meta" },
          t("inbox.subject"), ": ", h("strong", null, task.subject || "—"), " · ",
          t("inbox.applicant"), ": ", userLabel(task.applicant), " · ",
          t("inbox.since"), " ", formatTime(task.createdAt),
          task.delegatedFrom ? [" · ", h("span", { class: "delegated" }, t("route.onBehalf", { user: displayName(task.delegatedFrom) }))] : null,
        ),
        h(
          "p",
          { class: "badges" },
          taskBadges(task),
          task.assignee
            ? null
            : h("span", { class: "muted" }, ` ${t("inbox.group")}: ${groupLabel(task.candidateGroup)}`),
        ),
      ),
      h(
        "div",
        { class: "task-actions" },
        task.assignee
          ? h("a", { class: "button", href: `#/task/${encodeURIComponent(task.id)}` }, t("inbox.open"))
          : h("button", { type: "button", onclick: () => void claim(task) }, t("inbox.claim")),
      ),
    );
  };

  const render = () => {
    const shown = visible();
    replaceChildren(
      list,
      shown.length === 0
        ? h("p", { class: "empty" }, items.length === 0 ? t("inbox.empty") : t("inbox.noneMatch"))
        : shown.map(row),
    );
    updateBulk();
  };

  async function reload() {
    items = await loadInbox();
    render();
  }

  const bulkApprove = async () => {
    const chosen = items.filter((task) => selected.has(task.id));
    bulkButton.disabled = true;
    const failures: HTMLElement[] = [];
    let approved = 0;
    const failed = (task: Task, error: unknown) =>
      failures.push(h("li", null, `${task.stepName} (${task.subject}): `, errorBox(error)));
    // One call; each decision is its own command, answered on its own, and
    // a failure of one leaves the others standing.
    try {
      const decided = await taskApi.decideTasks({
        decisions: chosen.map((task) => ({ requestId: newRequestId(), taskId: task.id, action: Action.APPROVE })),
      });
      decided.results.forEach((result, i) => {
        if (result.code === 0) approved += 1;
        else failed(chosen[i], new ConnectError(result.message, result.code as Code));
      });
    } catch (error) {
      for (const task of chosen) failed(task, error);
    }
    selected.clear();
    replaceChildren(
      status,
      notice(t("inbox.approvedCount", { n: approved })),
      failures.length ? h("ul", { class: "failures" }, failures) : null,
    );
    await reload();
  };
  bulkButton.addEventListener("click", () => void bulkApprove());
  selectAll.addEventListener("change", () => {
    for (const task of visible().filter(bulkApprovable)) {
      if (selectAll.checked) selected.add(task.id);
      else selected.delete(task.id);
    }
    render();
  });

  const definitionId = uniqueId("definition");
  const overdueId = uniqueId("overdue");
  const dueSoonId = uniqueId("due-soon");
  const filterBar = h(
    "form",
    { class: "filters", "aria-label": t("inbox.filters"), onsubmit: (event: Event) => event.preventDefault() },
    h(
      "div",
      { class: "field inline" },
      h("label", { for: definitionId }, t("inbox.definition")),
      h(
        "select",
        {
          id: definitionId,
          onchange: (event: Event) => {
            filters.definition = (event.target as HTMLSelectElement).value;
            render();
          },
        },
        h("option", { value: "" }, t("inbox.allDefinitions")),
        published.definitions.map((summary) => h("option", { value: summary.key }, summary.name || summary.key)),
      ),
    ),
    h(
      "div",
      { class: "field inline" },
      h("input", {
        type: "checkbox",
        id: overdueId,
        onchange: (event: Event) => {
          filters.overdue = (event.target as HTMLInputElement).checked;
          render();
        },
      }),
      h("label", { for: overdueId }, t("inbox.overdueOnly")),
    ),
    h(
      "div",
      { class: "field inline" },
      h("input", {
        type: "checkbox",
        id: dueSoonId,
        onchange: (event: Event) => {
          filters.dueSoon = (event.target as HTMLInputElement).checked;
          render();
        },
      }),
      h("label", { for: dueSoonId }, t("inbox.dueSoon")),
    ),
  );

  render();
  return h(
    "div",
    { class: "inbox" },
    h("h1", null, t("inbox.title")),
    filterBar,
    h(
      "div",
      { class: "bulk" },
      h("span", { class: "field inline" }, selectAll, h("label", { for: selectAllId }, t("inbox.selectAll"))),
      bulkButton,
    ),
    status,
    list,
  );
}
