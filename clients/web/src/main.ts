// The portal's shell: header, navigation, hash routes.
import { h, replaceChildren } from "./dom";
import { language, setLanguage, t, type Language } from "./i18n";
import { session, signOut } from "./session";
import { AUDITOR, PROCESS_ADMIN, errorBox, forgetCaches, holdsRole, loading, takeFlash, userName, loadUsers } from "./views/common";
import { adminView, calendarAdminView, definitionAdminView } from "./views/admin";
import { instanceView, taskView } from "./views/case";
import { dashboardView } from "./views/dashboard";
import { delegationsView } from "./views/delegations";
import { inboxView } from "./views/inbox";
import { ledgersView } from "./views/ledgers";
import { notFoundView } from "./views/notfound";
import { requestsView } from "./views/requests";
import { signInView } from "./views/signin";
import { startFormView, startListView } from "./views/start";
import { asConnectError, Code } from "./api";

type Route = {
  pattern: RegExp;
  nav?: string;
  view: (params: string[]) => Promise<HTMLElement>;
};

const routes: Route[] = [
  { pattern: /^#\/inbox$/, nav: "inbox", view: () => inboxView() },
  { pattern: /^#\/task\/([^/]+)$/, nav: "inbox", view: ([id]) => taskView(id, rerender) },
  { pattern: /^#\/instance\/([^/]+)$/, nav: "requests", view: ([id]) => instanceView(id, rerender) },
  { pattern: /^#\/start$/, nav: "start", view: () => startListView() },
  { pattern: /^#\/start\/([^/]+)$/, nav: "start", view: ([key]) => startFormView(key, navigate) },
  { pattern: /^#\/requests$/, nav: "requests", view: () => requestsView() },
  { pattern: /^#\/dashboard(?:\/([^/]+))?$/, nav: "dashboard", view: ([key]) => dashboardView(key) },
  { pattern: /^#\/delegations$/, nav: "delegations", view: () => delegationsView(rerender) },
  { pattern: /^#\/ledgers(?:\/([^/]+))?$/, nav: "ledgers", view: ([key]) => ledgersView(key, navigate, rerender) },
  { pattern: /^#\/admin$/, nav: "admin", view: () => adminView() },
  { pattern: /^#\/admin\/definition\/([^/]+)(?:\/(\d+))?$/, nav: "admin", view: ([key, version]) => definitionAdminView(key, version) },
  { pattern: /^#\/admin\/calendar\/([^/]+)$/, nav: "admin", view: ([name]) => calendarAdminView(name) },
];

type NavItem = { id: string; hash: string; label: () => string; shown?: () => boolean };

const NAV: NavItem[] = [
  { id: "inbox", hash: "#/inbox", label: () => t("nav.inbox") },
  { id: "start", hash: "#/start", label: () => t("nav.start") },
  { id: "requests", hash: "#/requests", label: () => t("nav.requests") },
  { id: "delegations", hash: "#/delegations", label: () => t("nav.delegations") },
  { id: "dashboard", hash: "#/dashboard", label: () => t("nav.dashboard") },
  // Balances are for process admins and auditors (the server decides; the
  // page says so to anyone else who opens it).
  { id: "ledgers", hash: "#/ledgers", label: () => t("nav.ledgers"), shown: () => holdsRole(PROCESS_ADMIN) || holdsRole(AUDITOR) },
  { id: "admin", hash: "#/admin", label: () => t("nav.admin") },
];

const app = document.getElementById("app") as HTMLElement;
let generation = 0;
// Where a visitor was going when sent to sign in.
let afterSignIn = "#/inbox";

function navigate(hash: string): void {
  if (location.hash === hash) void render();
  else location.hash = hash;
}

function rerender(): void {
  void render(true);
}

function header(active: string | undefined): HTMLElement {
  const who = session();
  const languageSelect = h(
    "select",
    {
      id: "language",
      "aria-label": t("shell.language"),
      onchange: (event: Event) => {
        setLanguage((event.target as HTMLSelectElement).value as Language);
        void render();
      },
    },
    h("option", { value: "en", selected: language() === "en" }, "English"),
    h("option", { value: "zh", selected: language() === "zh" }, "中文"),
  );
  return h(
    "header",
    { class: "top" },
    h("a", { class: "brand", href: "#/inbox" }, "signoff"),
    who
      ? h(
          "nav",
          { "aria-label": t("shell.nav") },
          h(
            "ul",
            null,
            NAV.filter((item) => item.shown?.() ?? true).map((item) =>
              h("li", null, h("a", { href: item.hash, "aria-current": item.id === active ? "page" : undefined }, item.label())),
            ),
          ),
        )
      : null,
    h(
      "div",
      { class: "account" },
      who ? h("span", { class: "me", dataset: { user: who.user } }, userName(who.user)) : null,
      who
        ? h(
            "button",
            {
              type: "button",
              class: "link",
              onclick: () => {
                signOut();
                forgetCaches();
                navigate("#/signin");
              },
            },
            t("shell.signOut"),
          )
        : null,
      h("label", { for: "language", class: "visually-hidden" }, t("shell.language")),
      languageSelect,
    ),
  );
}

async function render(keepScroll = false): Promise<void> {
  const current = ++generation;
  const hash = location.hash || "#/inbox";
  document.documentElement.lang = language() === "zh" ? "zh-CN" : "en";
  document.title = t("shell.title");

  if (!session() && hash !== "#/signin") {
    afterSignIn = hash;
    location.replace("#/signin");
    return;
  }
  if (hash === "#/signin") {
    const view = await signInView(() => navigate(afterSignIn === "#/signin" ? "#/inbox" : afterSignIn));
    if (current !== generation) return;
    show(undefined, view, false);
    return;
  }
  const route = routes.find((candidate) => candidate.pattern.test(hash));
  if (!route) {
    show(undefined, notFoundView(), false);
    return;
  }
  const params = (route.pattern.exec(hash) ?? []).slice(1).map((part) => (part === undefined ? part : decodeURIComponent(part)));
  if (!keepScroll) show(route.nav, loading(), false);
  let view: HTMLElement;
  try {
    await loadUsers().catch(() => undefined);
    view = await route.view(params as string[]);
  } catch (error) {
    // An identity the server no longer accepts: sign in again.
    if (asConnectError(error).code === Code.Unauthenticated) {
      signOut();
      afterSignIn = hash;
      navigate("#/signin");
      return;
    }
    view = h("div", null, h("h1", null, t("shell.failed")), errorBox(error));
  }
  if (current !== generation) return;
  show(route.nav, view, keepScroll);
}

function show(active: string | undefined, view: HTMLElement, keepScroll: boolean): void {
  const isLoading = view.classList.contains("loading");
  const flash = isLoading ? null : takeFlash();
  const main = h("main", { id: "main", tabindex: -1 }, flash, view);
  const scroll = window.scrollY;
  replaceChildren(
    app,
    h("a", { class: "skip", href: "#main", onclick: (event: Event) => { event.preventDefault(); main.focus(); } }, t("shell.skip")),
    header(active),
    main,
  );
  if (flash) {
    // What the action did, where the eye and the screen reader go next.
    flash.setAttribute("tabindex", "-1");
    window.scrollTo(0, 0);
    flash.focus({ preventScroll: true });
  } else if (keepScroll) window.scrollTo(0, scroll);
  else if (!isLoading) {
    // Screen readers land on the new page's content, not the old link.
    const heading = main.querySelector("h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
    }
  }
  app.dataset.ready = isLoading ? "false" : "true";
}

window.addEventListener("hashchange", () => void render());
void render();
