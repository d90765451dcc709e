// An instance's trail, read two ways: the route so far (each step visit,
// who was asked, why, and what they decided) and the raw timeline with its
// hash-chain status.
import { toJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { h, type Child } from "../dom";
import { formatTime, formatValue } from "../format";
import { t, type Key } from "../i18n";
import { InstanceStatus, TaskStatus, type Event, type Task } from "../../gen/signoff/v1/instance_pb";
import type { GetHistoryResponse, PreviewRouteResponse, PreviewStep, PublishedDefinition } from "../../gen/signoff/v1/service_pb";
import { actionLabel, badge, displayName, groupLabel, stepName, taskStatusLabel, userLabel } from "./common";

type Decision = { task: Task; actor: string; onBehalfOf: string; time?: Event["time"] };

type StepVisit = {
  token: string;
  stepId: string;
  entered?: Event["time"];
  tasks: Map<string, Decision>;
  outcome: "active" | "completed" | "rejected" | "cancelled";
  skipped: { user: string; rule: string }[];
};

export function stepVisits(events: Event[]): StepVisit[] {
  const visits: StepVisit[] = [];
  const byToken = new Map<string, StepVisit>();
  const visitOf = (token: string, stepId: string) => {
    let visit = byToken.get(token);
    if (!visit) {
      visit = { token, stepId, tasks: new Map(), outcome: "active", skipped: [] };
      byToken.set(token, visit);
      visits.push(visit);
    }
    return visit;
  };
  for (const event of events) {
    const body = event.body;
    switch (body.case) {
      case "stepEntered": {
        const step = body.value.step;
        if (step) visitOf(step.token, step.stepId).entered = event.time;
        break;
      }
      case "taskCreated":
      case "taskUpdated":
      case "taskCompleted":
      case "taskCancelled": {
        const task = body.value.task;
        if (!task) break;
        const visit = visitOf(task.token, task.stepId);
        const earlier = visit.tasks.get(task.id);
        const decided = body.case === "taskCompleted";
        visit.tasks.set(task.id, {
          task,
          actor: decided ? event.actor : earlier?.actor ?? "",
          onBehalfOf: decided ? event.onBehalfOf : earlier?.onBehalfOf ?? "",
          time: decided ? event.time : earlier?.time,
        });
        break;
      }
      case "approverSkipped":
        for (const visit of visits) {
          if (visit.stepId === event.stepId && visit.outcome === "active") {
            visit.skipped.push({ user: body.value.user, rule: body.value.rule });
          }
        }
        break;
      case "stepCompleted": {
        const visit = byToken.get(body.value.token);
        if (visit) visit.outcome = body.value.rejected ? "rejected" : "completed";
        break;
      }
      case "stepCancelled": {
        const visit = byToken.get(body.value.token);
        if (visit) visit.outcome = "cancelled";
        break;
      }
      default:
        break;
    }
  }
  return visits;
}

function chosenBy(rule: string): string {
  return rule ? t("route.chosenBy", { rule }) : "";
}

function decisionLine(decision: Decision): Child {
  const { task } = decision;
  const who = task.assignee ? userLabel(task.assignee) : h("span", null, t("route.group", { group: groupLabel(task.candidateGroup) }));
  const parts: Child[] = [who];
  if (task.delegatedFrom) parts.push(" ", h("span", { class: "muted" }, t("route.onBehalf", { user: displayName(task.delegatedFrom) })));
  if (task.chosenBy) parts.push(" ", h("span", { class: "muted" }, chosenBy(task.chosenBy)));
  if (task.status === TaskStatus.DONE && task.decision) {
    parts.push(
      " — ",
      h("strong", { dataset: { decision: String(task.decision) } }, actionLabel(task.decision)),
      decision.actor && decision.actor !== task.assignee ? ` (${t("route.by", { user: displayName(decision.actor) })})` : "",
      decision.time ? ` · ${formatTime(decision.time)}` : "",
    );
    if (task.reasonCode) parts.push(" · ", h("code", null, task.reasonCode));
    if (task.comment) parts.push(h("q", { class: "comment" }, task.comment));
  } else {
    parts.push(" — ", h("span", { class: "muted" }, taskStatusLabel(task.status)));
  }
  return h("li", { dataset: { taskId: task.id } }, parts);
}

export function routeSection(
  history: GetHistoryResponse,
  definition: PublishedDefinition,
  preview: PreviewRouteResponse | null,
  activeSteps: string[],
  status: InstanceStatus,
): HTMLElement {
  const visits = stepVisits(history.events).filter((visit) => stepKindShown(definition, visit.stepId));
  const soFar = h(
    "ol",
    { class: "route so-far" },
    visits.map((visit) =>
      h(
        "li",
        { class: `visit visit-${visit.outcome}`, dataset: { step: visit.stepId } },
        h(
          "div",
          { class: "visit-head" },
          h("strong", null, stepName(definition, visit.stepId)),
          " ",
          badge(t(`route.outcome.${visit.outcome}` as Key), visit.outcome === "rejected" ? "bad" : visit.outcome === "active" ? "info" : "muted"),
          visit.entered ? h("span", { class: "muted" }, ` ${formatTime(visit.entered)}`) : null,
        ),
        visit.tasks.size ? h("ul", { class: "decisions" }, [...visit.tasks.values()].map(decisionLine)) : null,
        visit.skipped.length
          ? h("ul", { class: "skipped" }, visit.skipped.map((skip) => h("li", { class: "muted" }, t("route.skipped", { user: displayName(skip.user), rule: skip.rule }))))
          : null,
      ),
    ),
  );

  let ahead: Child = null;
  if (status === InstanceStatus.RUNNING && preview) {
    const start = preview.steps.findIndex((step) => activeSteps.includes(step.stepId));
    const upcoming = start >= 0 ? preview.steps.slice(start + 1) : [];
    ahead = h(
      "div",
      null,
      h("h3", null, t("route.ahead")),
      upcoming.length === 0
        ? h("p", { class: "muted" }, t("route.nothingAhead"))
        : previewSteps(upcoming),
      h("p", { class: "hint" }, t("route.aheadHint")),
    );
  }
  return h("div", { class: "route-view" }, h("h3", null, t("route.soFar")), soFar, ahead);
}

// Steps as PreviewRoute sees them: who would be asked, and by which rule.
export function previewSteps(steps: PreviewStep[]): HTMLElement {
  return h(
    "ol",
    { class: "route ahead" },
    steps.map((step) =>
      h(
        "li",
        { dataset: { step: step.stepId } },
        h("strong", null, step.name || step.stepId),
        step.branch ? h("span", { class: "muted" }, ` [${step.branch}]`) : null,
        step.approvers.length
          ? h(
              "ul",
              null,
              step.approvers.map((approver) =>
                h(
                  "li",
                  null,
                  approver.user ? userLabel(approver.user) : t("route.group", { group: groupLabel(approver.candidateGroup) }),
                  " ",
                  h("span", { class: "muted" }, chosenBy(approver.chosenBy)),
                  approver.note ? h("span", { class: "note" }, ` — ${approver.note}`) : null,
                ),
              ),
            )
          : null,
      ),
    ),
  );
}

// END steps are entered and left at once: they add nothing to read.
function stepKindShown(definition: PublishedDefinition, stepId: string): boolean {
  const step = definition.definition?.steps.find((candidate) => candidate.id === stepId);
  return step?.kind.case !== "end";
}

const QUIET_EVENTS = new Set(["timer_set", "timer_cancelled", "timer_fired", "clock_started", "clock_advanced"]);

export function timelineSection(history: GetHistoryResponse, definition: PublishedDefinition): HTMLElement {
  const chain = history.chainVerified
    ? badge(t("history.chainOk", { n: Number(history.eventCount) }), "ok", history.headHash)
    : badge(t("history.chainBroken"), "bad", history.headHash);
  const list = h("ol", { class: "timeline" });
  const showQuiet = h("input", { type: "checkbox", id: "timeline-quiet" });
  const render = () => {
    list.replaceChildren(
      ...history.events
        .filter((event) => showQuiet.checked || !QUIET_EVENTS.has(event.type))
        .map((event) => timelineItem(event, definition)),
    );
  };
  showQuiet.addEventListener("change", render);
  render();
  return h(
    "div",
    { class: "timeline-view" },
    h("p", { class: "chain", dataset: { chainVerified: String(history.chainVerified) } }, chain,
      history.headHash ? h("code", { class: "muted", title: history.headHash }, ` ${history.headHash.slice(0, 12)}…`) : null),
    h("p", { class: "field inline" }, showQuiet, h("label", { for: "timeline-quiet" }, t("history.showTimers"))),
    list,
  );
}

function eventLabel(type: string): string {
  const key = `event.${type}` as Key;
  const label = t(key);
  return label === key ? type.replace(/_/g, " ") : label;
}

function timelineItem(event: Event, definition: PublishedDefinition): HTMLElement {
  const details: Child[] = [];
  const body = event.body;
  if (body.case === "instanceResubmitted") {
    details.push(
      h(
        "ul",
        { class: "changes" },
        body.value.changes.map((change) =>
          h(
            "li",
            { dataset: { field: change.field } },
            h("strong", null, change.field), ": ",
            h("del", null, change.before ? formatValue(toJson(ValueSchema, change.before)) : "—"), " → ",
            h("ins", null, change.after ? formatValue(toJson(ValueSchema, change.after)) : "—"),
          ),
        ),
      ),
    );
  } else if (body.case === "instanceFinished") {
    details.push(h("span", null, ` → ${t(`status.${InstanceStatus[body.value.status]}` as Key)}`));
    if (body.value.outcome) details.push(" ", h("code", { class: "business-outcome" }, body.value.outcome));
  } else if (body.case === "ccSent") {
    details.push(h("span", null, ` → ${body.value.users.map(displayName).join(", ")}`));
  } else if ((body.case === "taskCreated" || body.case === "taskUpdated") && body.value.task) {
    // Whose the task is (now): the one asked, transferred or delegated to,
    // or added as a signer.
    const task = body.value.task;
    const to = task.assignee ? displayName(task.assignee) : task.candidateGroup ? t("route.group", { group: groupLabel(task.candidateGroup) }) : "";
    if (to) details.push(h("span", null, ` → ${to}`));
  } else if (body.case === "taskCompleted" && body.value.task) {
    details.push(h("span", null, ` — ${actionLabel(body.value.task.decision)}`));
  } else if (body.case === "instanceReturned") {
    details.push(h("span", null, ` → ${body.value.toStep ? stepName(definition, body.value.toStep) : t("history.toApplicant")}`));
  }
  return h(
    "li",
    { dataset: { type: event.type, seq: String(event.instanceSeq) } },
    h("time", { datetime: event.time ? new Date(Number(event.time.seconds) * 1000).toISOString() : undefined }, formatTime(event.time)),
    " ",
    h("span", { class: "actor" }, event.actor === "system" ? t("history.system") : userLabel(event.actor)),
    event.onBehalfOf ? h("span", { class: "muted" }, ` ${t("route.onBehalf", { user: displayName(event.onBehalfOf) })}`) : null,
    " · ",
    h("strong", null, eventLabel(event.type)),
    event.stepId ? h("span", { class: "muted" }, ` · ${stepName(definition, event.stepId)}`) : null,
    details,
    event.reason ? h("span", null, " · ", h("code", null, event.reason)) : null,
    event.comment ? h("q", { class: "comment" }, event.comment) : null,
  );
}
