// Standing delegations (out of office): the ones the caller gives and
// receives, a form to set one, and a button to remove one. Workflow admins
// also see and manage everyone else's, and may set one for another person.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { definitions, directory, newRequestId } from "../api";
import { h, replaceChildren, uniqueId, type Child } from "../dom";
import { formatTime, toDate } from "../format";
import { t } from "../i18n";
import { me } from "../session";
import type { Delegation } from "../../gen/signoff/v1/directory_pb";
import type { DefinitionSummary } from "../../gen/signoff/v1/service_pb";
import {
  WORKFLOW_ADMIN,
  badge,
  displayName,
  errorBox,
  fieldBox,
  holdsRole,
  loadUsers,
  section,
  setFlash,
  showViolations,
  userLabel,
  usersDatalist,
  type FieldBox,
} from "./common";

const DEFAULT_DAYS = 7;

// "YYYY-MM-DDTHH:MM" in the browser's zone, as a datetime-local input takes.
function localInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function fromLocalInput(value: string) {
  const date = new Date(value);
  return value && !Number.isNaN(date.getTime()) ? timestampFromDate(date) : undefined;
}

function stateBadge(delegation: Delegation, now = Date.now()): HTMLElement {
  const starts = toDate(delegation.startsAt)?.getTime() ?? 0;
  const ends = toDate(delegation.endsAt)?.getTime() ?? 0;
  if (now >= ends) return badge(t("delegation.ended"), "muted");
  if (now < starts) return badge(t("delegation.upcoming"), "info");
  return badge(t("delegation.running"), "ok");
}

export async function delegationsView(rerender: () => void): Promise<HTMLElement> {
  const [listed, defs] = await Promise.all([
    directory.listDelegations({}),
    definitions.listDefinitions({}),
    loadUsers().catch(() => undefined),
  ]);
  const admin = holdsRole(WORKFLOW_ADMIN);
  const all = listed.delegations;
  const given = all.filter((delegation) => delegation.delegator === me());
  const received = all.filter((delegation) => delegation.delegate === me());
  const others = admin ? all.filter((delegation) => delegation.delegator !== me() && delegation.delegate !== me()) : [];
  const status = h("div", { "aria-live": "polite" });

  const remove = async (delegation: Delegation, button: HTMLButtonElement) => {
    replaceChildren(status);
    button.disabled = true;
    try {
      await directory.removeDelegation({ requestId: newRequestId(), id: delegation.id });
      setFlash(t("delegation.removed", { user: displayName(delegation.delegate) }));
      rerender();
    } catch (error) {
      button.disabled = false;
      replaceChildren(status, errorBox(error));
    }
  };

  const table = (rows: Delegation[], removable: boolean, kind: string) =>
    rows.length === 0
      ? h("p", { class: "empty" }, t("delegation.none"))
      : h(
          "table",
          { class: "delegations", dataset: { list: kind } },
          h(
            "thead",
            null,
            h(
              "tr",
              null,
              [t("delegation.delegator"), t("delegation.delegate"), t("delegation.from"), t("delegation.until"), t("delegation.definitions"), t("delegation.comment"), t("delegation.state")].map(
                (title) => h("th", { scope: "col" }, title),
              ),
              removable ? h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, t("delegation.actions"))) : null,
            ),
          ),
          h(
            "tbody",
            null,
            rows.map((delegation) =>
              h(
                "tr",
                { dataset: { delegationId: delegation.id, delegator: delegation.delegator, delegate: delegation.delegate } },
                h("td", null, userLabel(delegation.delegator)),
                h("td", null, userLabel(delegation.delegate)),
                h("td", null, formatTime(delegation.startsAt)),
                h("td", null, formatTime(delegation.endsAt)),
                h("td", null, delegation.definitionKeys.length ? delegation.definitionKeys.map((key, i) => [i ? ", " : "", h("code", null, key)]) : t("delegation.everyDefinition")),
                h("td", null, delegation.comment),
                h("td", null, stateBadge(delegation)),
                removable
                  ? h(
                      "td",
                      null,
                      h(
                        "button",
                        {
                          type: "button",
                          class: "danger",
                          "aria-label": t("delegation.removeOne", { user: displayName(delegation.delegate), time: formatTime(delegation.startsAt) }),
                          onclick: (event: Event) => void remove(delegation, event.currentTarget as HTMLButtonElement),
                        },
                        t("delegation.remove"),
                      ),
                    )
                  : null,
              ),
            ),
          ),
        );

  return h(
    "div",
    { class: "delegations-page" },
    h("h1", null, t("delegation.title")),
    h("p", { class: "hint" }, t("delegation.hint")),
    status,
    section(t("delegation.given"), table(given, true, "given")),
    section(t("delegation.received"), h("p", { class: "hint" }, t("delegation.receivedHint")), table(received, false, "received")),
    admin ? section(t("delegation.others"), table(others, true, "others")) : null,
    setForm(admin, defs.definitions, rerender),
  );
}

function setForm(admin: boolean, summaries: DefinitionSummary[], rerender: () => void): HTMLElement {
  const listId = uniqueId("delegation-people");
  const now = new Date();
  now.setSeconds(0, 0);
  const until = new Date(now.getTime() + DEFAULT_DAYS * 86400000);
  const person = (initial = "") => h("input", { type: "text", list: listId, autocomplete: "off", value: initial });
  const boxes: Record<string, FieldBox> = {};
  if (admin) {
    boxes["delegation.delegator"] = fieldBox("delegator", t("delegation.delegator"), person(me()), {
      required: true,
      hint: t("delegation.delegatorHint"),
    });
  }
  boxes["delegation.delegate"] = fieldBox("delegate", t("delegation.delegate"), person(), { required: true, hint: t("delegation.delegateHint") });
  boxes["delegation.starts_at"] = fieldBox("starts_at", t("delegation.from"), h("input", { type: "datetime-local", value: localInput(now) }), { required: true });
  boxes["delegation.ends_at"] = fieldBox("ends_at", t("delegation.until"), h("input", { type: "datetime-local", value: localInput(until) }), {
    required: true,
    hint: t("delegation.untilHint"),
  });
  boxes["delegation.definition_keys"] = fieldBox(
    "definition",
    t("delegation.definition"),
    h(
      "select",
      null,
      h("option", { value: "" }, t("delegation.everyDefinition")),
      summaries.map((summary) => h("option", { value: summary.key }, summary.name ? `${summary.name} (${summary.key})` : summary.key)),
    ),
  );
  boxes["delegation.comment"] = fieldBox("comment", t("delegation.comment"), h("textarea", { rows: 2 }));
  const status = h("div", { "aria-live": "polite" });
  const value = (path: string) => boxes[path]?.control.value.trim() ?? "";
  const submitButton = h("button", { type: "submit", class: "primary" }, t("delegation.set"));

  const submit = async () => {
    replaceChildren(status);
    submitButton.disabled = true;
    const definitionKey = value("delegation.definition_keys");
    try {
      const reply = await directory.setDelegation({
        requestId: newRequestId(),
        delegation: {
          delegator: admin ? value("delegation.delegator") : "",
          delegate: value("delegation.delegate"),
          startsAt: fromLocalInput(value("delegation.starts_at")),
          endsAt: fromLocalInput(value("delegation.ends_at")),
          definitionKeys: definitionKey ? [definitionKey] : [],
          comment: value("delegation.comment"),
        },
      });
      setFlash(t("delegation.saved", { user: displayName(reply.delegation?.delegate ?? "") }));
      // The page is drawn again with the new delegation in its list.
      rerender();
    } catch (error) {
      replaceChildren(status, showViolations(error, boxes));
    } finally {
      submitButton.disabled = false;
    }
  };

  const fields: Child[] = Object.values(boxes).map((box) => box.element);
  return section(
    t("delegation.setTitle"),
    h(
      "form",
      {
        class: "set-delegation",
        novalidate: true,
        "aria-label": t("delegation.setTitle"),
        onsubmit: (event: Event) => {
          event.preventDefault();
          void submit();
        },
      },
      fields,
      usersDatalist(listId),
      status,
      h("div", { class: "buttons" }, submitButton),
    ),
  );
}
