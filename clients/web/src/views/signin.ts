// Sign in: a demo user on a development server, or a bearer token.
import { asIdentity, directory } from "../api";
import { h, replaceChildren, uniqueId } from "../dom";
import { t } from "../i18n";
import { lastDevUser, signIn, userOfToken, type Session } from "../session";
import type { User } from "../../gen/signoff/v1/directory_pb";
import { errorBox, forgetCaches } from "./common";

export async function signInView(afterSignIn: () => void): Promise<HTMLElement> {
  const status = h("div", { "aria-live": "polite" });

  const complete = async (who: Session) => {
    replaceChildren(status);
    try {
      // The directory must know the user: an unknown name or a bad token
      // fails here, not on the first page.
      await directory.getUser({ id: who.user }, asIdentity(who));
      forgetCaches();
      signIn(who);
      afterSignIn();
    } catch (error) {
      replaceChildren(status, errorBox(error));
    }
  };

  const userInputId = uniqueId("user");
  const userList = uniqueId("demo-users");
  const userInput = h("input", {
    id: userInputId,
    name: "user",
    type: "text",
    autocomplete: "username",
    list: userList,
    required: true,
    value: lastDevUser(),
  });
  const demoUsers = h("div", { class: "demo-users" });
  const devForm = h(
    "form",
    {
      class: "card",
      "aria-labelledby": `${userInputId}-title`,
      onsubmit: (event: Event) => {
        event.preventDefault();
        const user = userInput.value.trim();
        if (user) void complete({ mode: "dev", user });
      },
    },
    h("h2", { id: `${userInputId}-title` }, t("signin.devTitle")),
    h("p", { class: "hint" }, t("signin.devHint")),
    h("div", { class: "field" }, h("label", { for: userInputId }, t("signin.userId")), userInput),
    h("datalist", { id: userList }),
    h("button", { type: "submit", class: "primary" }, t("signin.submit")),
    demoUsers,
  );

  const tokenId = uniqueId("token");
  const tokenInput = h("textarea", { id: tokenId, name: "token", rows: 4, required: true, spellcheck: "false" });
  const tokenForm = h(
    "form",
    {
      class: "card",
      "aria-labelledby": `${tokenId}-title`,
      onsubmit: (event: Event) => {
        event.preventDefault();
        const token = tokenInput.value.trim();
        const user = userOfToken(token);
        if (!user) {
          replaceChildren(status, h("div", { class: "error", role: "alert" }, t("signin.badToken")));
          return;
        }
        void complete({ mode: "jwt", user, token });
      },
    },
    h("h2", { id: `${tokenId}-title` }, t("signin.jwtTitle")),
    h("p", { class: "hint" }, t("signin.jwtHint")),
    h("div", { class: "field" }, h("label", { for: tokenId }, t("signin.token")), tokenInput),
    h("button", { type: "submit" }, t("signin.submitToken")),
  );

  // With a user remembered from an earlier visit, the directory lists the
  // demo organisation to pick from.
  const remembered = lastDevUser();
  if (remembered) {
    directory
      .listUsers({ pageSize: 500 }, asIdentity({ mode: "dev", user: remembered }))
      .then((response) => showDemoUsers(response.users))
      .catch(() => undefined);
  }
  function showDemoUsers(users: User[]) {
    const people = users.filter((user) => !user.disabled);
    const datalist = devForm.querySelector("datalist");
    datalist?.replaceChildren(...people.map((user) => h("option", { value: user.id }, user.displayName)));
    replaceChildren(
      demoUsers,
      h("h3", null, t("signin.pick")),
      h(
        "ul",
        { class: "user-picks" },
        people.map((user) =>
          h(
            "li",
            null,
            h(
              "button",
              { type: "button", class: "link", onclick: () => void complete({ mode: "dev", user: user.id }) },
              user.displayName || user.id,
              h("span", { class: "muted" }, ` ${user.id} · ${user.department}${user.service ? ` · ${t("signin.service")}` : ""}`),
            ),
          ),
        ),
      ),
    );
  }

  return h(
    "div",
    { class: "signin" },
    h("h1", null, t("signin.title")),
    status,
    h("div", { class: "columns" }, devForm, tokenForm),
  );
}
