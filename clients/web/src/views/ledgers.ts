// Ledgers: the balances of a definition's ledgers (limit, reserved,
// consumed, remaining, with a bar of what is used) for its process admins
// and auditors, and a form for process admins to set a period's limit.
// The server decides who may read and set; anyone else sees why not.
import { definitions, isPermissionDenied, ledgers, newRequestId } from "../api";
import { h, replaceChildren, uniqueId } from "../dom";
import { language, t } from "../i18n";
import { LedgerPeriod, type Ledger } from "../../gen/signoff/v1/definition_pb";
import type { LedgerBalance } from "../../gen/signoff/v1/ledgers_pb";
import type { PublishedDefinition } from "../../gen/signoff/v1/service_pb";
import { PROCESS_ADMIN, deniedBox, fieldBox, getDefinition, holdsRole, section, setFlash, showViolations, type FieldBox } from "./common";

function formatAmount(value: number, unit: string): string {
  const number = new Intl.NumberFormat(language() === "zh" ? "zh-CN" : "en-GB", { maximumFractionDigits: 2 }).format(value);
  return unit ? `${number} ${unit}` : number;
}

// The share of the limit used (reserved and consumed), 0..100 and over.
function percentUsed(balance: LedgerBalance): number {
  const used = balance.reserved + balance.consumed;
  if (balance.limit <= 0) return used > 0 ? 100 : 0;
  return (used / balance.limit) * 100;
}

// A bar of the limit: consumed, then reserved, the rest free. A text
// alternative says the same in words.
function usageBar(balance: LedgerBalance): HTMLElement {
  const percent = percentUsed(balance);
  const width = (amount: number) => (balance.limit > 0 ? Math.min(100, (amount / balance.limit) * 100) : amount > 0 ? 100 : 0);
  const kind = percent >= 100 ? "bad" : percent >= 80 ? "warn" : "ok";
  const label = t("ledger.usage", {
    percent: Math.round(percent),
    consumed: formatAmount(balance.consumed, balance.unit),
    reserved: formatAmount(balance.reserved, balance.unit),
    limit: formatAmount(balance.limit, balance.unit),
  });
  return h(
    "div",
    { class: `usage usage-${kind}`, role: "img", "aria-label": label, title: label, dataset: { percent: String(Math.round(percent)) } },
    h("span", { class: "usage-consumed", style: `width: ${width(balance.consumed)}%` }),
    h("span", { class: "usage-reserved", style: `width: ${Math.min(width(balance.reserved), 100 - width(balance.consumed))}%` }),
    h("span", { class: "usage-text", "aria-hidden": "true" }, `${Math.round(percent)}%`),
  );
}

function periodHint(ledger: Ledger | undefined): string {
  switch (ledger?.period) {
    case LedgerPeriod.QUARTER:
      return t("ledger.periodQuarter");
    case LedgerPeriod.YEAR:
      return t("ledger.periodYear");
    default:
      return t("ledger.periodMonth");
  }
}

// The latest version of every definition that declares ledgers.
async function ledgerDefinitions(): Promise<PublishedDefinition[]> {
  const listed = await definitions.listDefinitions({});
  const published = await Promise.all(listed.definitions.map((summary) => getDefinition(summary.key, 0)));
  return published.filter((one) => (one.definition?.ledgers.length ?? 0) > 0);
}

export async function ledgersView(
  wantedKey: string | undefined,
  navigate: (hash: string) => void,
  rerender: () => void,
): Promise<HTMLElement> {
  const withLedgers = await ledgerDefinitions();
  const keys = withLedgers.map((one) => one.definition?.key ?? "");
  // Without a choice: the first the caller administers, else the first.
  const key = wantedKey && keys.includes(wantedKey) ? wantedKey : keys.find((candidate) => holdsRole(PROCESS_ADMIN, candidate)) ?? keys[0] ?? "";
  const published = withLedgers.find((one) => one.definition?.key === key);
  const pickerId = uniqueId("ledger-definition");
  const picker = h(
    "form",
    { class: "filters", "aria-label": t("ledger.pick"), onsubmit: (event: Event) => event.preventDefault() },
    h(
      "div",
      { class: "field inline" },
      h("label", { for: pickerId }, t("ledger.definition")),
      h(
        "select",
        { id: pickerId, name: "definition", onchange: (event: Event) => navigate(`#/ledgers/${encodeURIComponent((event.target as HTMLSelectElement).value)}`) },
        withLedgers.map((one) =>
          h("option", { value: one.definition?.key, selected: one.definition?.key === key }, `${one.definition?.name || one.definition?.key} (${one.definition?.key})`),
        ),
      ),
    ),
  );
  const page = (...children: (HTMLElement | null)[]) =>
    h("div", { class: "ledgers", dataset: { definition: key } }, h("h1", null, t("ledger.title")), h("p", { class: "hint" }, t("ledger.hint")), ...children);
  if (!published?.definition) return page(h("p", { class: "empty" }, t("ledger.noDefinitions")));

  let balances: LedgerBalance[];
  try {
    balances = (await ledgers.listLedgers({ definitionKey: key })).balances;
  } catch (error) {
    if (!isPermissionDenied(error)) throw error;
    return page(picker, h("div", { class: "ledger-balances", dataset: { state: "denied" } }, deniedBox(error, t("ledger.denied"), t("ledger.deniedWho"))));
  }
  const declared = published.definition.ledgers;
  const limitForm = holdsRole(PROCESS_ADMIN, key) ? setLimitForm(key, declared, rerender) : null;
  return page(picker, balanceTable(balances, declared, limitForm), limitForm?.element ?? null);
}

type LimitForm = { element: HTMLElement; prefill: (balance: LedgerBalance) => void };

function balanceTable(balances: LedgerBalance[], declared: Ledger[], limitForm: LimitForm | null): HTMLElement {
  const headings = [t("ledger.ledger"), t("ledger.key"), t("ledger.period"), t("ledger.limit"), t("ledger.reserved"), t("ledger.consumed"), t("ledger.remaining"), t("ledger.used")];
  const num = (value: number, unit: string, extra = "") => h("td", { class: `num ${extra}`.trim() }, formatAmount(value, unit));
  return section(
    t("ledger.balances"),
    h("div", { class: "ledger-balances", dataset: { state: "loaded" } },
      balances.length === 0
        ? h(
            "p",
            { class: "empty" },
            t("ledger.untouched", { ledgers: declared.map((ledger) => `${ledger.name}: ${formatAmount(ledger.limit, ledger.unit)}`).join(", ") }),
          )
        : h(
            "table",
            null,
            h(
              "thead",
              null,
              h(
                "tr",
                null,
                headings.map((title, i) => h("th", { scope: "col", class: i >= 3 && i <= 6 ? "num" : undefined }, title)),
                limitForm ? h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, t("ledger.actions"))) : null,
              ),
            ),
            h(
              "tbody",
              null,
              balances.map((balance) =>
                h(
                  "tr",
                  { dataset: { ledger: balance.ledger, key: balance.key, period: balance.period } },
                  h("th", { scope: "row" }, balance.ledger),
                  h("td", null, balance.key || h("span", { class: "muted" }, t("ledger.noKey"))),
                  h("td", null, balance.period),
                  num(balance.limit, balance.unit, "limit"),
                  num(balance.reserved, balance.unit, "reserved"),
                  num(balance.consumed, balance.unit, "consumed"),
                  num(balance.remaining, balance.unit, balance.remaining < 0 ? "remaining negative" : "remaining"),
                  h("td", null, usageBar(balance)),
                  limitForm
                    ? h(
                        "td",
                        null,
                        h(
                          "button",
                          {
                            type: "button",
                            class: "link",
                            "aria-label": t("ledger.changeOne", { ledger: balance.ledger, period: balance.period }),
                            onclick: () => limitForm.prefill(balance),
                          },
                          t("ledger.change"),
                        ),
                      )
                    : null,
                ),
              ),
            ),
          ),
    ),
  );
}

function setLimitForm(definitionKey: string, declared: Ledger[], rerender: () => void): LimitForm {
  const ledgerSelect = h("select", null, declared.map((ledger) => h("option", { value: ledger.name }, ledger.name)));
  const limitInput = h("input", { type: "number", min: 0, step: "0.01", inputmode: "decimal" });
  const boxes: Record<string, FieldBox> = {
    ledger: fieldBox("ledger", t("ledger.ledger"), ledgerSelect, { required: true }),
    key: fieldBox("key", t("ledger.key"), h("input", { type: "text", autocomplete: "off" }), { hint: t("ledger.keyHint") }),
    period: fieldBox("period", t("ledger.period"), h("input", { type: "text", autocomplete: "off" }), { hint: periodHint(declared[0]) }),
    limit: fieldBox("limit", t("ledger.limit"), limitInput, { required: true, hint: t("ledger.limitHint") }),
  };
  const periodHintText = boxes.period.element.querySelector(".hint");
  ledgerSelect.addEventListener("change", () => {
    if (periodHintText) periodHintText.textContent = periodHint(declared.find((ledger) => ledger.name === ledgerSelect.value));
  });
  const status = h("div", { "aria-live": "polite" });
  const submitButton = h("button", { type: "submit", class: "primary" }, t("ledger.setLimit"));
  const submit = async () => {
    replaceChildren(status);
    const raw = limitInput.value.trim();
    submitButton.disabled = true;
    try {
      const reply = await ledgers.setLedgerLimit({
        requestId: newRequestId(),
        definitionKey,
        ledger: ledgerSelect.value,
        key: boxes.key.control.value.trim(),
        period: boxes.period.control.value.trim(),
        // What does not parse goes as NaN: the server names the problem.
        limit: raw === "" ? Number.NaN : Number(raw),
      });
      const balance = reply.balance;
      setFlash(t("ledger.limitSet", { ledger: balance?.ledger ?? "", period: balance?.period ?? "", limit: formatAmount(balance?.limit ?? 0, balance?.unit ?? "") }));
      rerender();
    } catch (error) {
      replaceChildren(status, showViolations(error, boxes));
    } finally {
      submitButton.disabled = false;
    }
  };
  const element = section(
    t("ledger.setLimitTitle"),
    h(
      "form",
      {
        class: "set-limit",
        novalidate: true,
        "aria-label": t("ledger.setLimitTitle"),
        onsubmit: (event: Event) => {
          event.preventDefault();
          void submit();
        },
      },
      Object.values(boxes).map((box) => box.element),
      status,
      h("div", { class: "buttons" }, submitButton),
    ),
  );
  return {
    element,
    prefill: (balance) => {
      ledgerSelect.value = balance.ledger;
      ledgerSelect.dispatchEvent(new Event("change"));
      boxes.key.control.value = balance.key;
      boxes.period.control.value = balance.period;
      limitInput.value = String(balance.limit);
      limitInput.focus();
      limitInput.select();
    },
  };
}
