// Pieces several views share: error boxes, badges, names, caches.
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { Code, asConnectError, definitions, directory, fieldViolations } from "../api";
import { h, uniqueId, type Child } from "../dom";
import { formatRelative, formatTime, toDate } from "../format";
import { t, type Key } from "../i18n";
import { me } from "../session";
import { InstanceStatus, TaskStatus, type Event, type Task } from "../../gen/signoff/v1/instance_pb";
import { Action } from "../../gen/signoff/v1/definition_pb";
import type { InstanceView, PublishedDefinition } from "../../gen/signoff/v1/service_pb";
import type { User } from "../../gen/signoff/v1/directory_pb";

export function errorBox(error: unknown): HTMLElement {
  const connect = asConnectError(error);
  const key = `code.${Code[connect.code]}` as Key;
  return h(
    "div",
    { class: "error", role: "alert" },
    h("strong", null, t(key)),
    " ",
    connect.rawMessage,
  );
}

export function notice(text: string): HTMLElement {
  return h("p", { class: "notice", role: "status" }, text);
}

// A message for the next page drawn: what an action did, kept across the
// re-render that shows its effect.
let flash: string | null = null;

export function setFlash(text: string): void {
  flash = text;
}

export function takeFlash(): HTMLElement | null {
  const text = flash;
  flash = null;
  return text ? notice(text) : null;
}

export function loading(): HTMLElement {
  return h("p", { class: "loading", role: "status" }, t("common.loading"));
}

export function badge(text: string, kind: string, title?: string): HTMLElement {
  return h("span", { class: `badge badge-${kind}`, title }, text);
}

export function statusBadge(status: InstanceStatus): HTMLElement {
  const name = InstanceStatus[status] ?? "INSTANCE_STATUS_UNSPECIFIED";
  const kind =
    status === InstanceStatus.APPROVED
      ? "ok"
      : status === InstanceStatus.REJECTED || status === InstanceStatus.CANCELLED
        ? "bad"
        : status === InstanceStatus.RETURNED
          ? "warn"
          : "info";
  return h("span", { class: `badge badge-${kind}`, dataset: { status: name } }, statusLabel(status));
}

export function statusLabel(status: InstanceStatus): string {
  return t(`status.${InstanceStatus[status] ?? "INSTANCE_STATUS_UNSPECIFIED"}` as Key);
}

export function actionLabel(action: Action): string {
  return t(`action.${Action[action] ?? "ACTION_UNSPECIFIED"}` as Key);
}

export function taskStatusLabel(status: TaskStatus): string {
  return t(`taskStatus.${TaskStatus[status] ?? "TASK_STATUS_UNSPECIFIED"}` as Key);
}

const DUE_SOON_MS = 24 * 3600 * 1000;

export function isDueSoon(task: Task, now = Date.now()): boolean {
  const due = toDate(task.dueAt);
  return due !== null && !task.overdue && due.getTime() - now <= DUE_SOON_MS;
}

// Due, overdue, paused and claim badges, with the due time in the caller's
// zone.
export function taskBadges(task: Task): Child[] {
  const badges: Child[] = [];
  if (task.status === TaskStatus.PENDING && !task.assignee && task.candidateGroup) {
    badges.push(badge(t("task.toClaim"), "info", groupLabel(task.candidateGroup)));
  }
  if (task.clockPaused) badges.push(badge(t("task.paused"), "muted"));
  if (task.overdue) {
    badges.push(dueBadge(t("task.overdue"), "bad", task.dueAt));
  } else if (task.dueAt) {
    badges.push(dueBadge(t("task.due"), isDueSoon(task) ? "warn" : "muted", task.dueAt));
  }
  if (task.slaBreached && !task.overdue) badges.push(badge(t("task.slaBreached"), "bad"));
  return badges;
}

function dueBadge(prefix: string, kind: string, due: Timestamp | undefined): HTMLElement {
  return h(
    "span",
    { class: `badge badge-${kind}`, title: formatTime(due) },
    `${prefix} ${formatRelative(due)} · `,
    h("time", { datetime: toDate(due)?.toISOString() }, formatTime(due)),
  );
}

export function groupLabel(group: { role: string; department: string } | undefined): string {
  if (!group) return "";
  return group.department ? `${group.role} @ ${group.department}` : group.role;
}

// ---------------------------------------------------------------- caches

const users = new Map<string, User>();
let usersLoaded: Promise<void> | null = null;

// The directory, once per sign-in, for names and pickers.
export function loadUsers(): Promise<void> {
  if (!usersLoaded) {
    usersLoaded = (async () => {
      let pageToken = "";
      do {
        const page = await directory.listUsers({ pageSize: 500, pageToken });
        for (const user of page.users) users.set(user.id, user);
        pageToken = page.nextPageToken;
      } while (pageToken);
    })().catch((error: unknown) => {
      usersLoaded = null;
      throw error;
    });
  }
  return usersLoaded;
}

export function knownUsers(): User[] {
  return [...users.values()].filter((user) => !user.disabled);
}

export function forgetCaches(): void {
  users.clear();
  usersLoaded = null;
  definitionCache.clear();
}

export function userName(id: string): string {
  const user = users.get(id);
  return user?.displayName ? `${user.displayName} (${id})` : id;
}

// A person's name for running text, or their id when the directory has
// no name for them.
export function displayName(id: string): string {
  return users.get(id)?.displayName || id;
}

export function userLabel(id: string): HTMLElement {
  const user = users.get(id);
  return h("span", { class: "user", title: id }, user?.displayName || id);
}

// A datalist of the directory's people, for user fields.
export function usersDatalist(id: string): HTMLDataListElement {
  return h(
    "datalist",
    { id },
    knownUsers().map((user) => h("option", { value: user.id }, user.displayName)),
  );
}

const definitionCache = new Map<string, Promise<PublishedDefinition>>();

// A definition version, fetched once; version 0 is the latest and is not
// kept, since a new one may be published.
export function getDefinition(key: string, version: number): Promise<PublishedDefinition> {
  const cacheKey = `${key}@${version}`;
  let found = version > 0 ? definitionCache.get(cacheKey) : undefined;
  if (!found) {
    found = definitions.getDefinition({ key, version }).then((response) => {
      if (!response.published) throw new Error(`no definition ${key}`);
      return response.published;
    });
    if (version > 0) {
      definitionCache.set(cacheKey, found);
      found.catch(() => definitionCache.delete(cacheKey));
    }
  }
  return found;
}

export function stepName(definition: PublishedDefinition | undefined, stepId: string): string {
  const step = definition?.definition?.steps.find((candidate) => candidate.id === stepId);
  return step?.name || stepId;
}

export function section(title: string, ...children: Child[]): HTMLElement {
  const id = uniqueId("section");
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

// May the applicant still appeal this instance? The server sets
// appeal_until only while an appeal is left; the appeals already filed are
// also counted from the history and held against the definition's limit
// (0 means one), so that the page and the server agree even on an instance
// a server before that rule stored.
export function mayAppeal(instance: InstanceView, events: Event[], definition: PublishedDefinition, now = Date.now()): boolean {
  const due = toDate(instance.appealUntil);
  if (instance.status !== InstanceStatus.REJECTED || !due || due.getTime() <= now) return false;
  const policy = definition.definition?.appeal;
  if (!policy?.allowed) return false;
  const filed = events.filter((event) => event.body.case === "appealFiled").length;
  return filed < Math.max(1, policy.maxAppeals);
}

// ---------------------------------------------------------------- roles

// The directory roles the portal offers pages by. The server decides what
// each caller may do; these only choose what to show.
export const WORKFLOW_ADMIN = "workflow-admin";
export const PROCESS_ADMIN = "process-admin";
export const AUDITOR = "auditor";

// Whether the signed-in user holds `role`; with a definition key, a grant
// that lists definitions must name it (one that lists none covers all).
export function holdsRole(role: string, definitionKey?: string): boolean {
  const grants = users.get(me())?.roles ?? [];
  return grants.some(
    (grant) =>
      grant.role === role &&
      (definitionKey === undefined || grant.definitions.length === 0 || grant.definitions.includes(definitionKey)),
  );
}

// ---------------------------------------------------------------- fields

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

// One labelled control of a hand-made form, with a hint and a place for
// the server's field violation, tied to the control for screen readers.
export type FieldBox = {
  element: HTMLElement;
  control: Control;
  setError: (text: string) => void;
};

export function fieldBox(name: string, label: string, control: Control, options: { required?: boolean; hint?: string } = {}): FieldBox {
  if (!control.id) control.id = uniqueId(name);
  control.name ||= name;
  const hint = options.hint ? h("p", { class: "hint", id: `${control.id}-hint` }, options.hint) : null;
  const error = h("p", { class: "field-error", id: `${control.id}-error`, "aria-live": "polite" });
  control.setAttribute("aria-describedby", [hint?.id, error.id].filter(Boolean).join(" "));
  if (options.required) control.required = true;
  const element = h(
    "div",
    { class: "field", dataset: { field: name } },
    h("label", { for: control.id }, label, options.required ? h("span", { class: "required", "aria-hidden": "true" }, " *") : null),
    control,
    hint,
    error,
  );
  return {
    element,
    control,
    setError: (text: string) => {
      error.textContent = text;
      element.classList.toggle("invalid", text !== "");
      if (text) control.setAttribute("aria-invalid", "true");
      else control.removeAttribute("aria-invalid");
    },
  };
}

// Puts the server's field violations beside the boxes they name (by the
// field path the server uses: "delegation.ends_at", "limit"; a list
// element "definition_keys[0]" goes to its list's box). Focuses the first
// box in error; returns the alert to show, with the violations that named
// no box.
export function showViolations(error: unknown, boxes: Record<string, FieldBox>): HTMLElement {
  for (const box of Object.values(boxes)) box.setError("");
  const unplaced: string[] = [];
  let first: Control | null = null;
  for (const [path, descriptions] of fieldViolations(error)) {
    const name = Object.keys(boxes).find((candidate) => path === candidate || path.startsWith(`${candidate}[`));
    if (name === undefined) {
      unplaced.push(`${path}: ${descriptions.join("; ")}`);
      continue;
    }
    boxes[name].setError(descriptions.join("; "));
    first ??= boxes[name].control;
  }
  first?.focus();
  return h(
    "div",
    null,
    errorBox(error),
    unplaced.length ? h("ul", { class: "error" }, unplaced.map((line) => h("li", null, line))) : null,
  );
}

// The server's refusal of a page the caller's roles do not reach: what
// the page is, who may use it, and the server's own words.
export function deniedBox(error: unknown, what: string, who: string): HTMLElement {
  return h(
    "div",
    { class: "error denied", role: "alert" },
    h("strong", null, what),
    h("p", null, who),
    h("p", { class: "muted" }, asConnectError(error).rawMessage),
  );
}
