// A form drawn from a definition's form schema: one labelled control per
// field with its type, required mark, enum values and limits. The server
// validates; its field violations are shown beside the fields they name.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { attachmentRefs, formatBytes, uploadFile } from "../attachments";
import { asConnectError } from "../api";
import { h, replaceChildren, uniqueId, type Child } from "../dom";
import { formatValue, sameValue } from "../format";
import { t } from "../i18n";
import { FieldType, type FormField } from "../../gen/signoff/v1/definition_pb";
import { usersDatalist } from "./common";

type FieldControl = {
  field: FormField;
  wrapper: HTMLElement;
  error: HTMLElement;
  focusTarget: HTMLElement;
  read: () => JsonValue | undefined;
};

export type FormEditor = {
  element: HTMLElement;
  values: () => JsonObject;
  // Field paths as the server names them ("form.amount"); returns the
  // violations that named no field of this form.
  showViolations: (byField: Map<string, string[]>, prefix: string) => string[];
  clearViolations: () => void;
};

// `original`: the values being corrected (a resubmit); fields that differ
// from them are marked as changed while the applicant edits.
// `definitionKey`: what files of ATTACHMENT fields are uploaded for.
export function formEditor(
  fields: FormField[],
  initial: JsonObject = {},
  original?: JsonObject,
  redacted: string[] = [],
  definitionKey = "",
): FormEditor {
  const controls: FieldControl[] = [];
  const element = h("div", { class: "form-fields" });
  const datalistId = uniqueId("users");
  let needsUsers = false;

  const markChanged = (control: FieldControl) => {
    if (!original) return;
    const changed = !sameValue(control.read(), original[control.field.name]);
    control.wrapper.classList.toggle("changed", changed);
    const note = control.wrapper.querySelector(".changed-note");
    if (note) note.textContent = changed ? t("form.changed", { before: formatValue(original[control.field.name]) || "—" }) : "";
  };

  for (const field of fields) {
    const id = uniqueId(`field-${field.name}`);
    const hintId = `${id}-hint`;
    const errorId = `${id}-error`;
    const error = h("p", { class: "field-error", id: errorId, "aria-live": "polite" });
    const hint = h("p", { class: "hint", id: hintId }, hintFor(field));
    const value = initial[field.name];
    const describedBy = `${hintId} ${errorId}`;
    let focusTarget: HTMLElement;
    let read: () => JsonValue | undefined;
    let input: Child;
    if (redacted.includes(field.name)) {
      // A confidential field this reader may not see: it cannot be edited.
      input = h("p", { class: "redacted", id }, t("form.redacted"));
      focusTarget = input as HTMLElement;
      read = () => undefined;
    } else if (isAttachmentField(field)) {
      const picker = attachmentPicker(field, id, describedBy, value, definitionKey);
      input = picker.element;
      focusTarget = picker.focusTarget;
      read = picker.read;
    } else if (field.type === FieldType.BOOL) {
      const box = h("input", { type: "checkbox", id, name: field.name, checked: value === true, "aria-describedby": describedBy });
      input = box;
      focusTarget = box;
      read = () => box.checked;
    } else if (field.type === FieldType.ENUM) {
      const select = h(
        "select",
        { id, name: field.name, required: field.required, "aria-describedby": describedBy },
        h("option", { value: "" }, field.required ? t("form.choose") : t("form.none")),
        field.values.map((choice) => h("option", { value: choice, selected: value === choice }, choice)),
      );
      input = select;
      focusTarget = select;
      read = () => select.value || undefined;
    } else if (field.type === FieldType.LIST && field.itemType === FieldType.ENUM) {
      const chosen = Array.isArray(value) ? value : [];
      const boxes = field.values.map((choice) =>
        h("input", { type: "checkbox", name: field.name, value: choice, checked: chosen.includes(choice) }),
      );
      input = h(
        "fieldset",
        { id, class: "choices", "aria-describedby": describedBy },
        h("legend", { class: "visually-hidden" }, field.label || field.name),
        boxes.map((box) => h("label", { class: "choice" }, box, " ", box.value)),
      );
      focusTarget = boxes[0] ?? (input as HTMLElement);
      read = () => {
        const picked = boxes.filter((box) => box.checked).map((box) => box.value);
        return picked.length ? picked : undefined;
      };
    } else if (field.type === FieldType.LIST) {
      const area = h("textarea", {
        id,
        name: field.name,
        rows: 3,
        "aria-describedby": describedBy,
        value: Array.isArray(value) ? value.map((item) => formatValue(item)).join("\n") : "",
      });
      input = area;
      focusTarget = area;
      read = () => {
        const items = area.value.split("\n").map((line) => line.trim()).filter(Boolean);
        if (!items.length) return undefined;
        return field.itemType === FieldType.NUMBER ? items.map(numberOrText) : items;
      };
    } else {
      const text = value === undefined || value === null ? "" : formatValue(value);
      const long = field.type === FieldType.STRING && (field.max ?? 0) > 200;
      const control = long
        ? h("textarea", { id, name: field.name, rows: 4, required: field.required, "aria-describedby": describedBy, value: text })
        : h("input", { id, name: field.name, required: field.required, "aria-describedby": describedBy, value: text, ...inputAttrs(field) });
      if (field.type === FieldType.USER) {
        control.setAttribute("list", datalistId);
        needsUsers = true;
      }
      input = control;
      focusTarget = control;
      read = () => {
        const raw = control.value.trim();
        if (!raw) return undefined;
        return field.type === FieldType.NUMBER ? numberOrText(raw) : raw;
      };
    }
    const label = h("label", { for: id }, field.label || field.name, field.required ? h("span", { class: "required", "aria-hidden": "true" }, " *") : null);
    const requiredNote = field.required ? h("span", { class: "visually-hidden" }, ` (${t("form.required")})`) : null;
    // A checkbox reads best before its label.
    const check = field.type === FieldType.BOOL && !redacted.includes(field.name);
    const wrapper = h(
      "div",
      { class: check ? "field check" : "field", dataset: { field: field.name } },
      check ? [input, label, requiredNote] : [label, requiredNote, input],
      hint,
      original ? h("p", { class: "changed-note", "aria-live": "polite" }) : null,
      error,
    );
    const control: FieldControl = { field, wrapper, error, focusTarget, read };
    wrapper.addEventListener("input", () => markChanged(control));
    wrapper.addEventListener("change", () => markChanged(control));
    controls.push(control);
    element.append(wrapper);
  }
  if (needsUsers) element.append(usersDatalist(datalistId));
  for (const control of controls) markChanged(control);

  const clearViolations = () => {
    for (const control of controls) {
      control.error.textContent = "";
      control.wrapper.classList.remove("invalid");
      control.focusTarget.removeAttribute("aria-invalid");
    }
  };

  return {
    element,
    values: () => {
      const values: JsonObject = {};
      for (const control of controls) {
        const value = control.read();
        if (value !== undefined) values[control.field.name] = value;
      }
      return values;
    },
    clearViolations,
    showViolations: (byField, prefix) => {
      clearViolations();
      const unplaced: string[] = [];
      let first: HTMLElement | null = null;
      for (const [path, descriptions] of byField) {
        const name = path.startsWith(`${prefix}.`) ? path.slice(prefix.length + 1) : path;
        const control = controls.find((candidate) => candidate.field.name === name);
        if (!control) {
          unplaced.push(`${path}: ${descriptions.join("; ")}`);
          continue;
        }
        control.error.textContent = descriptions.join("; ");
        control.wrapper.classList.add("invalid");
        control.focusTarget.setAttribute("aria-invalid", "true");
        first ??= control.focusTarget;
      }
      first?.focus();
      return unplaced;
    },
  };
}

function isAttachmentField(field: FormField): boolean {
  return field.type === FieldType.ATTACHMENT || (field.type === FieldType.LIST && field.itemType === FieldType.ATTACHMENT);
}

// A file input that uploads what is picked at once; the field's value is
// the uploaded files' references (kept from `value` until replaced).
function attachmentPicker(field: FormField, id: string, describedBy: string, value: JsonValue | undefined, definitionKey: string) {
  const many = field.type === FieldType.LIST;
  let refs = attachmentRefs(value);
  const picker = h("input", { type: "file", id, name: field.name, multiple: many, "aria-describedby": describedBy });
  const list = h("ul", { class: "attachment-list", "aria-live": "polite" });
  const show = () => replaceChildren(list, refs.map((ref) => h("li", null, `${String(ref.name)} (${formatBytes(Number(ref.size))})`)));
  picker.addEventListener("change", () => {
    const files = Array.from(picker.files ?? []);
    if (!files.length) return;
    replaceChildren(list, h("li", null, t("form.uploading", { n: files.length })));
    void Promise.all(files.map((file) => uploadFile(definitionKey, file))).then(
      (uploaded) => {
        refs = many ? [...refs, ...uploaded] : uploaded.slice(0, 1);
        show();
        picker.dispatchEvent(new Event("input", { bubbles: true }));
      },
      (error: unknown) => replaceChildren(list, h("li", { class: "error" }, t("form.uploadFailed", { message: asConnectError(error).rawMessage }))),
    );
  });
  show();
  return {
    element: h("div", { class: "attachment-field" }, picker, list),
    focusTarget: picker,
    read: (): JsonValue | undefined => (refs.length ? (many ? refs : refs[0]) : undefined),
  };
}

function numberOrText(raw: string): JsonValue {
  const parsed = Number(raw);
  // What does not parse goes as typed: the server names the problem.
  return raw !== "" && Number.isFinite(parsed) ? parsed : raw;
}

function inputAttrs(field: FormField): Record<string, string | number | undefined> {
  switch (field.type) {
    case FieldType.NUMBER:
      return { type: "number", step: "any", min: field.min, max: field.max, inputmode: "decimal" };
    case FieldType.MONEY:
      return { type: "text", inputmode: "decimal", autocomplete: "off" };
    case FieldType.DATE:
      return { type: "date" };
    case FieldType.USER:
      return { type: "text", autocomplete: "off" };
    default:
      return {
        type: "text",
        minlength: field.min,
        maxlength: field.max,
        pattern: field.pattern || undefined,
      };
  }
}

// What the field takes, in words: its type and limits.
function hintFor(field: FormField): string {
  const type = isAttachmentField(field) ? FieldType.ATTACHMENT : field.type;
  const parts: string[] = [t(`fieldType.${FieldType[type] ?? "FIELD_TYPE_UNSPECIFIED"}` as never)];
  const { min, max } = field;
  if (field.type === FieldType.STRING) {
    if (min !== undefined && max !== undefined) parts.push(t("form.lengthBetween", { min, max }));
    else if (min !== undefined) parts.push(t("form.lengthAtLeast", { min }));
    else if (max !== undefined) parts.push(t("form.lengthAtMost", { max }));
    if (field.pattern) parts.push(t("form.pattern", { pattern: field.pattern }));
  } else if (field.type === FieldType.NUMBER || field.type === FieldType.MONEY) {
    if (min !== undefined && max !== undefined) parts.push(t("form.between", { min, max }));
    else if (min !== undefined) parts.push(t("form.atLeast", { min }));
    else if (max !== undefined) parts.push(t("form.atMost", { max }));
  } else if (field.type === FieldType.LIST) {
    if (min !== undefined) parts.push(t("form.itemsAtLeast", { min }));
    if (max !== undefined) parts.push(t("form.itemsAtMost", { max }));
  }
  if (field.confidential) parts.push(t("form.confidential"));
  return parts.join(" · ");
}
