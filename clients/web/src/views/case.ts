// One instance, as a task page (#/task/<id>: the decision panel on top) or
// as an instance page (#/instance/<id>: the applicant's actions on top).
// Both show the form, the route so far and ahead, and the timeline.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { attachmentRefs, downloadFile, formatBytes } from "../attachments";
import { fieldViolations, instances, isNotFound, newRequestId, tasks as taskApi } from "../api";
import { h, replaceChildren, uniqueId, type Child } from "../dom";
import { formatTime, formatValue } from "../format";
import { t } from "../i18n";
import { me } from "../session";
import { Action, FieldType } from "../../gen/signoff/v1/definition_pb";
import { InstanceStatus, TaskStatus, type Task } from "../../gen/signoff/v1/instance_pb";
import { SignerPosition, type InstanceView, type PreviewRouteResponse } from "../../gen/signoff/v1/service_pb";
import {
  actionLabel,
  badge,
  displayName,
  errorBox,
  getDefinition,
  loadUsers,
  mayAppeal,
  section,
  setFlash,
  statusBadge,
  stepName,
  taskBadges,
  taskStatusLabel,
  userLabel,
  usersDatalist,
} from "./common";
import { formEditor } from "./form";
import { routeSection, timelineSection } from "./history";
import { notFoundView } from "./notfound";

export async function taskView(taskId: string, rerender: () => void): Promise<HTMLElement> {
  let task: Task;
  try {
    const response = await taskApi.getTask({ id: taskId });
    if (!response.task) throw new Error("empty reply");
    task = response.task;
  } catch (error) {
    if (isNotFound(error)) return notFoundView();
    throw error;
  }
  return caseView(task.instanceId, task, rerender);
}

export async function instanceView(instanceId: string, rerender: () => void): Promise<HTMLElement> {
  return caseView(instanceId, null, rerender);
}

async function caseView(instanceId: string, task: Task | null, rerender: () => void): Promise<HTMLElement> {
  let instance: InstanceView;
  try {
    const response = await instances.getInstance({ id: instanceId });
    if (!response.instance) throw new Error("empty reply");
    instance = response.instance;
  } catch (error) {
    if (isNotFound(error)) return notFoundView();
    throw error;
  }
  const [history, definition] = await Promise.all([
    instances.getHistory({ instanceId }),
    getDefinition(instance.definitionKey, instance.definitionVersion),
    loadUsers().catch(() => undefined),
  ]);
  // The route ahead is a preview: if it cannot be computed (say, a form the
  // reader sees redacted), the page goes on without it.
  let preview: PreviewRouteResponse | null = null;
  if (instance.status === InstanceStatus.RUNNING) {
    preview = await instances
      .previewRoute({
        definitionKey: instance.definitionKey,
        definitionVersion: instance.definitionVersion,
        form: instance.form ?? {},
        applicant: instance.applicant,
      })
      .catch(() => null);
  }
  const fields = definition.definition?.form?.fields ?? [];
  const title = `${definition.definition?.name || instance.definitionKey} · ${instance.subject || instance.id}`;

  return h(
    "div",
    { class: "case", dataset: { instanceId: instance.id, status: InstanceStatus[instance.status] } },
    h("p", { class: "crumbs" }, task ? h("a", { href: "#/inbox" }, t("nav.inbox")) : h("a", { href: "#/requests" }, t("nav.requests")), " / ", instance.id),
    h("h1", null, task ? `${task.stepName || task.stepId}: ${title}` : title, " ", statusBadge(instance.status)),
    summary(instance, definition),
    task ? taskPanel(task, definition, rerender) : null,
    !task && instance.applicant === me() ? applicantPanel(instance, fields, mayAppeal(instance, history.events, definition), rerender) : null,
    section(t("case.form"), formTable(instance, fields)),
    section(t("case.route"), routeSection(history, definition, preview, instance.activeSteps, instance.status)),
    section(t("case.history"), timelineSection(history, definition)),
  );
}

function summary(instance: InstanceView, definition: Awaited<ReturnType<typeof getDefinition>>): HTMLElement {
  const rows: [string, Child][] = [
    ...whoRows(instance, definition),
    [t("case.definition"), `${instance.definitionKey} v${instance.definitionVersion}`],
    [t("case.started"), formatTime(instance.createdAt)],
    [t("case.updated"), formatTime(instance.updatedAt)],
  ];
  if (instance.finishedAt) rows.push([t("case.finished"), formatTime(instance.finishedAt)]);
  if (instance.activeSteps.length) {
    rows.push([t("case.activeSteps"), instance.activeSteps.map((step) => stepName(definition, step)).join(", ")]);
  }
  // Reason codes with the labels the definition gives them.
  const reasonText = (code: string, reasons: { code: string; label: string }[] | undefined) => {
    const label = reasons?.find((reason) => reason.code === code)?.label;
    return [label ? `${label} ` : "", h("code", null, code)];
  };
  if (instance.outcome) {
    const named = definition.definition?.outcomes.find((outcome) => outcome.code === instance.outcome);
    rows.push([
      t("case.businessOutcome"),
      h("span", { class: "business-outcome", dataset: { outcome: instance.outcome } }, named?.label ? `${named.label} ` : "", h("code", null, instance.outcome)),
    ]);
  }
  if (instance.outcomeReason || instance.outcomeComment) {
    rows.push([
      t("case.outcome"),
      [instance.outcomeReason ? reasonText(instance.outcomeReason, definition.definition?.rejectReasons) : null, " ", instance.outcomeComment],
    ]);
  }
  if (instance.lastReturn) {
    const note = instance.lastReturn;
    rows.push([
      t("case.returned"),
      h(
        "span",
        { class: "return-note" },
        t("case.returnedBy", { user: displayName(note.by), step: stepName(definition, note.fromStep), time: formatTime(note.at) }),
        note.reason ? [" · ", reasonText(note.reason, definition.definition?.returnReasons)] : null,
        note.comment ? h("q", { class: "comment" }, note.comment) : null,
      ),
    ]);
  }
  if (instance.appealUntil) rows.push([t("case.appealUntil"), formatTime(instance.appealUntil)]);
  if (instance.slaBreached) rows.push([t("case.sla"), h("span", { class: "badge badge-bad" }, t("task.slaBreached"))]);
  return h("dl", { class: "summary" }, rows.map(([term, value]) => [h("dt", null, term), h("dd", null, value)]));
}

// Who filed the instance and whom it is about: the applicant, and the
// subject (a person by name when the definition's subject field is a user
// field), marked when someone filed it on the subject's behalf.
function whoRows(instance: InstanceView, definition: Awaited<ReturnType<typeof getDefinition>>): [string, Child][] {
  const subject = definition.definition?.subject;
  const subjectField = definition.definition?.form?.fields.find((field) => field.name === subject?.field);
  const subjectIsUser = subjectField?.type === FieldType.USER;
  const rows: [string, Child][] = [];
  rows.push([instance.filedFor ? t("case.filedBy") : t("case.applicant"), h("span", { class: "applicant", dataset: { user: instance.applicant } }, userLabel(instance.applicant))]);
  if (instance.subject) {
    const label = subject?.type ? t("case.subjectOfType", { type: subject.type }) : t("case.subject");
    rows.push([
      label,
      h(
        "span",
        { class: "subject", dataset: { subject: instance.subject } },
        subjectIsUser ? [userLabel(instance.subject), " ", h("span", { class: "muted" }, `(${instance.subject})`)] : h("code", null, instance.subject),
        instance.filedFor ? [" ", badge(t("case.filedFor", { user: displayName(instance.filedFor) }), "info")] : null,
        !instance.filedFor && subjectIsUser && instance.subject === instance.applicant ? [" ", badge(t("case.filedBySubject"), "muted")] : null,
      ),
    ]);
  }
  return rows;
}

// A download button per file of an attachment field.
function fileLinks(instance: InstanceView, value: JsonValue | undefined): HTMLElement | null {
  const refs = attachmentRefs(value);
  if (!refs.length) return null;
  return h(
    "ul",
    { class: "attachment-list" },
    refs.map((ref) => {
      const name = String(ref.name);
      const save = async () => {
        const url = URL.createObjectURL(await downloadFile(instance.id, ref));
        const link = h("a", { href: url, download: name });
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60000);
      };
      return h(
        "li",
        null,
        `${name} (${formatBytes(Number(ref.size))}) `,
        h("button", { type: "button", class: "link", dataset: { sha256: String(ref.sha256) }, "aria-label": `${t("case.download")} ${name}`, onclick: () => void save() }, t("case.download")),
      );
    }),
  );
}

function formTable(instance: InstanceView, fields: { name: string; label: string; confidential: boolean }[]): HTMLElement {
  const values = instance.form ?? {};
  const names = [...fields.map((field) => field.name), ...Object.keys(values).filter((name) => !fields.some((field) => field.name === name))];
  return h(
    "dl",
    { class: "form-values" },
    names
      .filter((name) => name in values || instance.redactedFields.includes(name))
      .map((name) => {
        const field = fields.find((candidate) => candidate.name === name);
        const redacted = instance.redactedFields.includes(name);
        return [
          h("dt", null, field?.label || name),
          h(
            "dd",
            { dataset: { field: name } },
            redacted ? h("span", { class: "redacted" }, t("form.redacted")) : fileLinks(instance, values[name]) ?? formatValue(values[name]),
          ),
        ];
      }),
  );
}

// ---------------------------------------------------------------- deciding

type ActionForm = {
  action: Action;
  needsUsers?: "one" | "many";
  build: (inputs: ActionInputs) => Promise<unknown>;
};

type ActionInputs = { comment: string; reason: string; users: string[]; returnTo: string; position: SignerPosition; days: number; result?: JsonObject };

function taskPanel(task: Task, definition: Awaited<ReturnType<typeof getDefinition>>, rerender: () => void): HTMLElement {
  const status = h("div", { "aria-live": "polite" });
  const actions = task.actions;
  const allowed = actions?.allowed ?? [];
  const mine = task.assignee === me();
  const pending = task.status === TaskStatus.PENDING;
  const area = h("div", { class: "action-area" });
  // What completing this task reports, when its step declares result fields.
  const step = definition.definition?.steps.find((candidate) => candidate.id === task.stepId);
  const resultFields = step?.kind.case === "task" ? step.kind.value.resultFields : [];

  const run = async (label: string, call: () => Promise<unknown>, placeViolations?: (error: unknown) => void) => {
    replaceChildren(status);
    try {
      await call();
      setFlash(t("case.done", { action: label }));
      rerender();
    } catch (error) {
      placeViolations?.(error);
      replaceChildren(status, errorBox(error));
    }
  };

  const decide = (action: Action, inputs: ActionInputs) =>
    taskApi.decideTask({
      requestId: newRequestId(),
      taskId: task.id,
      action,
      comment: inputs.comment,
      reasonCode: inputs.reason,
      returnToStep: action === Action.RETURN ? inputs.returnTo : "",
      users: inputs.users,
      signerPosition: action === Action.ADD_SIGNER ? inputs.position : SignerPosition.SIGNER_POSITION_UNSPECIFIED,
      result: inputs.result,
    });

  const forms: ActionForm[] = [
    { action: Action.APPROVE, build: (inputs) => decide(Action.APPROVE, inputs) },
    { action: Action.COMPLETE, build: (inputs) => decide(Action.COMPLETE, inputs) },
    { action: Action.REJECT, build: (inputs) => decide(Action.REJECT, inputs) },
    { action: Action.RETURN, build: (inputs) => decide(Action.RETURN, inputs) },
    { action: Action.TRANSFER, needsUsers: "one", build: (inputs) => decide(Action.TRANSFER, inputs) },
    { action: Action.DELEGATE, needsUsers: "one", build: (inputs) => decide(Action.DELEGATE, inputs) },
    { action: Action.ADD_SIGNER, needsUsers: "one", build: (inputs) => decide(Action.ADD_SIGNER, inputs) },
    { action: Action.CC, needsUsers: "many", build: (inputs) => decide(Action.CC, inputs) },
    { action: Action.COMMENT, build: (inputs) => decide(Action.COMMENT, inputs) },
    {
      action: Action.PAUSE_CLOCK,
      build: (inputs) =>
        task.clockPaused
          ? taskApi.resumeClock({ requestId: newRequestId(), taskId: task.id, comment: inputs.comment })
          : taskApi.pauseClock({ requestId: newRequestId(), taskId: task.id, comment: inputs.comment }),
    },
    {
      action: Action.EXTEND_DEADLINE,
      build: (inputs) =>
        taskApi.extendDeadline({
          requestId: newRequestId(),
          taskId: task.id,
          comment: inputs.comment,
          extension: { case: "by", value: { days: inputs.days } },
        }),
    },
  ];

  const labelOf = (action: Action) =>
    action === Action.PAUSE_CLOCK && task.clockPaused ? t("case.resumeClock") : actionLabel(action);

  // Opens an action's form below the buttons; Cancel or Escape closes it
  // and gives the focus back to the button that opened it.
  const open = (form: ActionForm, opener: HTMLElement | null) => {
    const action = form.action;
    const close = () => {
      replaceChildren(area);
      if (opener?.isConnected) opener.focus();
    };
    const label = labelOf(action);
    const commentRequired = actions?.commentRequired.includes(action) ?? false;
    const reasons = action === Action.REJECT ? actions?.rejectReasons ?? [] : action === Action.RETURN ? actions?.returnReasons ?? [] : [];
    const reasonRequired = actions?.reasonRequired.includes(action) ?? false;
    const ids = { comment: uniqueId("comment"), reason: uniqueId("reason"), users: uniqueId("users"), to: uniqueId("to"), position: uniqueId("position"), days: uniqueId("days"), list: uniqueId("people") };
    const comment = h("textarea", { id: ids.comment, name: "comment", rows: 3, required: commentRequired });
    const reason = h(
      "select",
      { id: ids.reason, name: "reason", required: reasonRequired },
      h("option", { value: "" }, reasonRequired ? t("form.choose") : t("form.none")),
      reasons.map((code) => h("option", { value: code.code }, code.label ? `${code.label} (${code.code})` : code.code)),
    );
    const users = h("input", { id: ids.users, name: "users", type: "text", list: ids.list, autocomplete: "off", required: true });
    const returnTo = h(
      "select",
      { id: ids.to, name: "returnTo" },
      h("option", { value: "" }, t("case.toApplicant")),
      (actions?.returnSteps ?? []).map((step) => h("option", { value: step }, stepName(definition, step))),
    );
    const position = h(
      "select",
      { id: ids.position, name: "position" },
      [SignerPosition.BEFORE, SignerPosition.AFTER, SignerPosition.PARALLEL].map((value) =>
        h("option", { value: String(value) }, t(`signer.${SignerPosition[value]}` as never)),
      ),
    );
    const days = h("input", { id: ids.days, name: "days", type: "number", min: 1, max: 30, value: 1, required: true });
    const results = action === Action.COMPLETE && resultFields.length ? formEditor(resultFields) : null;
    const field = (id: string, text: string, control: HTMLElement, required = false) =>
      h("div", { class: "field" }, h("label", { for: id }, text, required ? h("span", { class: "required" }, " *") : null), control);
    const formElement = h(
      "form",
      {
        class: "action-form card",
        dataset: { action: Action[action] },
        "aria-label": label,
        onkeydown: (event: Event) => {
          if ((event as KeyboardEvent).key !== "Escape") return;
          event.preventDefault();
          close();
        },
        onsubmit: (event: Event) => {
          event.preventDefault();
          const inputs: ActionInputs = {
            comment: comment.value.trim(),
            reason: reason.value,
            users: users.value.split(/[\s,]+/).map((user) => user.trim()).filter(Boolean),
            returnTo: returnTo.value,
            position: Number(position.value) as SignerPosition,
            days: Number(days.value),
            result: results?.values(),
          };
          results?.clearViolations();
          void run(label, () => form.build(inputs), results ? (error) => results.showViolations(fieldViolations(error), "result") : undefined);
        },
      },
      h("h3", null, label),
      reasons.length ? field(ids.reason, t("case.reason"), reason, reasonRequired) : null,
      action === Action.RETURN ? field(ids.to, t("case.returnTo"), returnTo) : null,
      form.needsUsers ? field(ids.users, form.needsUsers === "many" ? t("case.users") : t("case.user"), users, true) : null,
      form.needsUsers ? usersDatalist(ids.list) : null,
      action === Action.ADD_SIGNER ? field(ids.position, t("case.position"), position) : null,
      action === Action.EXTEND_DEADLINE ? field(ids.days, t("case.extendDays"), days, true) : null,
      results ? h("fieldset", { class: "task-result" }, h("legend", null, t("case.result")), results.element) : null,
      field(ids.comment, t("case.comment"), comment, commentRequired),
      h(
        "div",
        { class: "buttons" },
        h("button", { type: "submit", class: action === Action.REJECT ? "danger" : "primary" }, t("case.confirm", { action: label })),
        h("button", { type: "button", onclick: close }, t("common.cancel")),
      ),
    );
    replaceChildren(area, formElement);
    (reasons.length ? reason : form.needsUsers ? users : comment).focus();
  };

  let buttons: Child;
  if (pending && !task.assignee) {
    buttons = h(
      "button",
      { type: "button", class: "primary", onclick: () => void run(t("action.CLAIM"), () => taskApi.claimTask({ requestId: newRequestId(), id: task.id })) },
      t("action.CLAIM"),
    );
  } else if (pending && mine) {
    buttons = forms
      .filter((form) => allowed.includes(form.action))
      .map((form) =>
        h(
          "button",
          { type: "button", class: form.action === Action.APPROVE || form.action === Action.COMPLETE ? "primary" : form.action === Action.REJECT ? "danger" : "", dataset: { action: Action[form.action] }, onclick: (event: Event) => open(form, event.currentTarget as HTMLElement) },
          labelOf(form.action),
        ),
      );
  } else {
    buttons = h(
      "p",
      { class: "muted" },
      task.assignee && !mine ? t("case.notYours", { user: displayName(task.assignee) }) : t("case.taskState", { state: taskStatusLabel(task.status) }),
    );
  }
  return section(
    t("case.task"),
    h("p", { class: "badges" }, taskBadges(task), task.chosenBy ? h("span", { class: "muted" }, ` ${t("route.chosenBy", { rule: task.chosenBy })}`) : null),
    task.delegatedFrom && mine ? h("p", { class: "delegated" }, t("case.delegatedFrom", { user: displayName(task.delegatedFrom) })) : null,
    h("div", { class: "buttons", role: "group", "aria-label": t("case.actions") }, buttons),
    area,
    status,
  );
}

// ---------------------------------------------------------------- applicant

function applicantPanel(
  instance: InstanceView,
  fields: Parameters<typeof formEditor>[0],
  appealable: boolean,
  rerender: () => void,
): HTMLElement | null {
  const status = h("div", { "aria-live": "polite" });
  const parts: Child[] = [];
  const run = async (label: string, call: () => Promise<unknown>) => {
    replaceChildren(status);
    try {
      await call();
      setFlash(t("case.done", { action: label }));
      rerender();
    } catch (error) {
      replaceChildren(status, errorBox(error));
    }
  };
  const commentBox = (id: string, label: string, required = false) => [
    h("label", { for: id }, label),
    h("textarea", { id, name: "comment", rows: 2, required }),
  ];
  // A form of one comment box that makes one call: withdraw, appeal.
  const commentForm = (
    kind: string,
    label: string,
    buttonClass: string,
    intro: Child[],
    required: boolean,
    call: (comment: string) => Promise<unknown>,
  ) => {
    const id = uniqueId(`${kind}-comment`);
    return h(
      "form",
      {
        class: `${kind} card`,
        "aria-label": label,
        onsubmit: (event: Event) => {
          event.preventDefault();
          const comment = (document.getElementById(id) as HTMLTextAreaElement).value.trim();
          void run(label, () => call(comment));
        },
      },
      h("h3", null, label),
      ...intro,
      h("div", { class: "field" }, commentBox(id, t("case.comment"), required)),
      h("button", { type: "submit", class: buttonClass }, label),
    );
  };

  if (instance.status === InstanceStatus.RETURNED) {
    const editor = formEditor(fields, instance.form ?? {}, instance.form ?? {}, instance.redactedFields, instance.definitionKey);
    const commentId = uniqueId("resubmit-comment");
    const unplaced = h("div", { "aria-live": "polite" });
    parts.push(
      h(
        "form",
        {
          class: "resubmit card",
          novalidate: true,
          "aria-label": t("case.resubmit"),
          onsubmit: (event: Event) => {
            event.preventDefault();
            const comment = (document.getElementById(commentId) as HTMLTextAreaElement).value.trim();
            replaceChildren(unplaced);
            void (async () => {
              try {
                await instances.resubmitInstance({ requestId: newRequestId(), id: instance.id, form: editor.values() as JsonObject, comment });
                setFlash(t("case.done", { action: t("case.resubmit") }));
                rerender();
              } catch (error) {
                const rest = editor.showViolations(fieldViolations(error), "form");
                replaceChildren(status, errorBox(error));
                if (rest.length) replaceChildren(unplaced, h("ul", { class: "error" }, rest.map((line) => h("li", null, line))));
              }
            })();
          },
        },
        h("h3", null, t("case.resubmit")),
        h("p", { class: "hint" }, t("case.resubmitHint")),
        editor.element,
        h("div", { class: "field" }, commentBox(commentId, t("case.comment"))),
        unplaced,
        h("button", { type: "submit", class: "primary" }, t("case.resubmit")),
      ),
    );
  }
  if (instance.status === InstanceStatus.RUNNING || instance.status === InstanceStatus.RETURNED) {
    parts.push(
      commentForm("withdraw", t("case.withdraw"), "danger", [], false, (comment) =>
        instances.withdrawInstance({ requestId: newRequestId(), id: instance.id, comment }),
      ),
    );
  }
  if (appealable) {
    parts.push(
      commentForm(
        "appeal",
        t("case.appeal"),
        "primary",
        [h("p", { class: "hint" }, t("case.appealWindow", { time: formatTime(instance.appealUntil) }))],
        true,
        (comment) => instances.appealInstance({ requestId: newRequestId(), id: instance.id, comment }),
      ),
    );
  }
  const remindable = instance.pendingTasks.filter((pending) => pending.actions?.allowed.includes(Action.REMIND));
  if (remindable.length) {
    parts.push(
      h(
        "div",
        { class: "remind" },
        h("h3", null, t("case.waitingOn")),
        h(
          "ul",
          null,
          remindable.map((pending) =>
            h(
              "li",
              null,
              `${pending.stepName}: `,
              pending.assignee ? userLabel(pending.assignee) : t("task.toClaim"),
              " ",
              taskBadges(pending),
              " ",
              h(
                "button",
                { type: "button", onclick: () => void run(actionLabel(Action.REMIND), () => taskApi.remindTask({ requestId: newRequestId(), id: pending.id })) },
                actionLabel(Action.REMIND),
              ),
            ),
          ),
        ),
      ),
    );
  }
  if (!parts.length) return null;
  return section(t("case.yourRequest"), parts, status);
}
