// Start a request: pick a definition, fill the form its schema describes,
// preview the route, submit.
import { definitions, fieldViolations, instances, newRequestId } from "../api";
import { h, replaceChildren } from "../dom";
import { formatTime } from "../format";
import { t } from "../i18n";
import { InstanceStatus } from "../../gen/signoff/v1/instance_pb";
import { displayName, errorBox, getDefinition, loadUsers, statusLabel } from "./common";
import { me } from "../session";
import { FieldType } from "../../gen/signoff/v1/definition_pb";
import type { PublishedDefinition } from "../../gen/signoff/v1/service_pb";
import { formEditor } from "./form";
import { previewSteps } from "./history";

export async function startListView(): Promise<HTMLElement> {
  const response = await definitions.listDefinitions({});
  return h(
    "div",
    { class: "start-list" },
    h("h1", null, t("start.title")),
    response.definitions.length === 0
      ? h("p", { class: "empty" }, t("start.none"))
      : h(
          "ul",
          { class: "cards" },
          response.definitions.map((summary) =>
            h(
              "li",
              { class: "card" },
              h("h2", null, h("a", { href: `#/start/${encodeURIComponent(summary.key)}` }, summary.name || summary.key)),
              h("p", { class: "muted" }, `${summary.key} · v${summary.latestVersion} · ${formatTime(summary.publishedAt)}`),
            ),
          ),
        ),
  );
}

export async function startFormView(key: string, navigate: (hash: string) => void): Promise<HTMLElement> {
  const [published] = await Promise.all([getDefinition(key, 0), loadUsers().catch(() => undefined)]);
  const definition = published.definition;
  const fields = definition?.form?.fields ?? [];
  const editor = formEditor(fields, {}, undefined, [], key);
  markSubjectField(published, editor.element);
  const status = h("div", { "aria-live": "polite" });
  const previewArea = h("div", { class: "preview", "aria-live": "polite" });

  const preview = async () => {
    replaceChildren(previewArea);
    try {
      const route = await instances.previewRoute({ definitionKey: key, definitionVersion: published.version, form: editor.values() });
      editor.clearViolations();
      replaceChildren(
        previewArea,
        h("h2", null, t("start.previewTitle")),
        previewSteps(route.steps),
        h("p", null, t("start.finalStatus", { status: statusLabel(route.finalStatus ?? InstanceStatus.INSTANCE_STATUS_UNSPECIFIED) })),
      );
    } catch (error) {
      showError(error);
    }
  };

  const showError = (error: unknown) => {
    const unplaced = editor.showViolations(fieldViolations(error), "form");
    replaceChildren(
      status,
      errorBox(error),
      unplaced.length ? h("ul", { class: "error" }, unplaced.map((line) => h("li", null, line))) : null,
    );
  };

  const submit = async (button: HTMLButtonElement) => {
    replaceChildren(status);
    button.disabled = true;
    try {
      const response = await instances.startInstance({
        requestId: newRequestId(),
        definitionKey: key,
        definitionVersion: published.version,
        form: editor.values(),
      });
      navigate(`#/instance/${encodeURIComponent(response.instance?.id ?? "")}`);
    } catch (error) {
      showError(error);
    } finally {
      button.disabled = false;
    }
  };

  const submitButton = h("button", { type: "submit", class: "primary" }, t("start.submit"));
  return h(
    "div",
    { class: "start-form" },
    h("p", { class: "crumbs" }, h("a", { href: "#/start" }, t("nav.start")), " / ", key),
    h("h1", null, definition?.name || key),
    definition?.description ? h("p", { class: "description" }, definition.description) : null,
    h("p", { class: "hint" }, t("start.requiredNote")),
    h(
      "form",
      {
        class: "card",
        novalidate: true,
        "aria-label": definition?.name || key,
        onsubmit: (event: Event) => {
          event.preventDefault();
          void submit(submitButton);
        },
      },
      editor.element,
      status,
      h(
        "div",
        { class: "buttons" },
        submitButton,
        h("button", { type: "button", onclick: () => void preview() }, t("start.preview")),
      ),
    ),
    previewArea,
  );
}

// When the definition's subject is a person named by a user field, that
// field says so: naming someone else files the request on their behalf
// (they can follow it, and the route follows them, not the applicant).
function markSubjectField(published: PublishedDefinition, form: HTMLElement): void {
  const definition = published.definition;
  const name = definition?.subject?.field;
  const field = definition?.form?.fields.find((candidate) => candidate.name === name);
  if (!name || field?.type !== FieldType.USER) return;
  const wrapper = form.querySelector<HTMLElement>(`.field[data-field="${CSS.escape(name)}"]`);
  const input = wrapper?.querySelector("input");
  if (!wrapper || !input) return;
  wrapper.classList.add("subject-field");
  const note = h("p", { class: "on-behalf", id: `${input.id}-behalf`, "aria-live": "polite" });
  input.setAttribute("aria-describedby", `${input.getAttribute("aria-describedby") ?? ""} ${note.id}`.trim());
  const hint = h("p", { class: "hint subject-hint" }, t("start.subjectHint", { type: definition?.subject?.type || field.label || name }));
  wrapper.querySelector(".hint")?.after(hint, note);
  const update = () => {
    const chosen = input.value.trim();
    note.textContent = !chosen ? "" : chosen === me() ? t("start.forYourself") : t("start.onBehalf", { user: displayName(chosen) });
    note.classList.toggle("filing-for-other", chosen !== "" && chosen !== me());
  };
  input.addEventListener("input", update);
  input.addEventListener("change", update);
}
