import { h } from "../dom";
import { t } from "../i18n";

// What a reader gets for an instance or task that does not exist, or that
// they may not see: the server answers NOT_FOUND for both, and so does the
// portal.
export function notFoundView(): HTMLElement {
  return h(
    "div",
    { class: "not-found", dataset: { notFound: "true" } },
    h("h1", null, t("notFound.title")),
    h("p", null, t("notFound.text")),
    h("p", null, h("a", { href: "#/inbox" }, t("notFound.back"))),
  );
}
