// Feedback from colleagues: the employee (or the manager, with the employee's consent) asks a
// colleague a few open questions through a link. The answer is the employee's: the manager reads
// it only once the employee shares it. Every button comes from the request's `can`.

import { h, uid } from "./dom.js";
import { draft } from "./drafts.js";
import { t } from "./i18n.js";
import { badge, button, calledOf, checkField, form, formatDate, nameOf, textField } from "./common.js";
import { dayOf, journalCard, journalOf, mayDo, mayJournal, sendJournal } from "./journal-ops.js";

export const MAX_QUESTIONS = 6;

function stateBadge(request) {
  switch (request.state) {
    case "consent": return badge(t("Waiting for consent"), "wait");
    case "open": return badge(t("Waiting for the answer"), "wait");
    case "answered": return badge(t("Answered"), "good");
    default: return badge(t("Withdrawn"));
  }
}

/** The questions grouped by their group's title, in the order given. */
function groups(questions) {
  const found = new Map();
  for (const question of questions) {
    if (!found.has(question.group)) found.set(question.group, []);
    found.get(question.group).push(question);
  }
  return [...found.entries()];
}

function askForm(app) {
  const ctx = app.ctx;
  const journal = journalOf(ctx);
  const questions = journal.questions || [];
  const employee = ctx.user.role === "employee";
  const prefix = "journal:feedback-new";
  const email = textField({ label: t("Colleague's e-mail address"), key: `${prefix}:email`, type: "email",
    required: true, autocomplete: "email" });
  const name = textField({ label: t("Colleague's name"), key: `${prefix}:name` });
  const boxes = groups(questions).map(([group, list]) => h("fieldset", { class: "questions" }, h("legend", { text: group }),
    list.map((q) => checkField({ label: q.text, key: `${prefix}:q:${q.key}` }).wrap)));
  const submit = () => {
    const address = String(draft(`${prefix}:email`, "")).trim();
    if (!address) return app.alert(t("Give your colleague's e-mail address."));
    const chosen = questions.filter((q) => draft(`${prefix}:q:${q.key}`, false)).map((q) => q.key);
    if (!chosen.length || chosen.length > MAX_QUESTIONS) {
      return app.alert(t("Choose one to %(most)s questions.", { most: MAX_QUESTIONS }));
    }
    const who = String(draft(`${prefix}:name`, "")).trim();
    return sendJournal(app, [{ op: "feedback.ask", email: address, name: who, questions: chosen }], {
      clear: [`${prefix}:*`],
      after: () => { app.ui.feedbackAsking = false; },
      focus: (next) => {
        const asked = (journalOf(next).feedback || []).at(-1);
        return asked ? `journal:feedback:${asked.id}:name` : "journal:feedback:summary";
      },
      done: employee
        ? t("Your request to %(name)s is saved and mailed. You can also pass on its link yourself.", { name: who || address })
        : t("Your request to %(name)s waits for %(employee)s's consent.", { name: who || address, employee: nameOf(ctx, "employee") }),
    });
  };
  return h("details", { class: "add-goal", open: app.ui.feedbackAsking || null,
    ontoggle: (event) => { app.ui.feedbackAsking = event.target.open; } },
  h("summary", { key: `${prefix}:open`, text: t("Ask a colleague") }),
  form([email.wrap, name.wrap,
    h("p", { class: "hint", text: t("Choose up to %(most)s questions. Your colleague answers them through a link, without an account.",
      { most: MAX_QUESTIONS }) }),
    boxes,
    h("div", { class: "actions" }, button(t("Ask for feedback"), null, { primary: true, type: "submit", key: `${prefix}:submit` }))],
  submit, { label: t("Ask a colleague") }));
}

async function copyLink(app, request) {
  const shown = app.ui.linkShown || (app.ui.linkShown = {});
  try {
    if (!navigator.clipboard || !navigator.clipboard.writeText) throw new Error("no clipboard");
    await navigator.clipboard.writeText(request.link);
    app.announce(t("The link is copied. Pass it on to %(name)s.", { name: request.name }));
  } catch {
    // No clipboard here (or no permission): the link in a field, selected, to copy by hand.
    shown[request.id] = true;
    const key = `journal:feedback:${request.id}:link`;
    app.render(key);
    const field = document.querySelector(`[data-key="${key}"]`);
    if (field) field.select();
    app.announce(t("Copy the link from the field."));
  }
}

/** The link in a field to copy by hand, once copying it did not work. */
function linkField(app, request) {
  if (!request.link || !(app.ui.linkShown && app.ui.linkShown[request.id])) return null;
  const id = uid("f");
  return h("div", { class: "field" }, h("label", { for: id, text: t("Link for %(name)s", { name: request.name }) }),
    h("input", { id, type: "text", readonly: true, value: request.link, key: `journal:feedback:${request.id}:link`,
      onfocus: (event) => event.target.select() }));
}

function answersPart(ctx, request) {
  const employee = ctx.user.role === "employee";
  if (request.state === "answered" && !(request.answers || []).length && !employee) {
    return h("p", { class: "meta", text: t("%(name)s reads the answer first and decides whether to share it with you.",
      { name: nameOf(ctx, "employee") }) });
  }
  if ((request.answers || []).length) {
    return h("dl", { class: "answers" }, request.questions.map((q, i) => [
      h("dt", { text: q }),
      h("dd", { class: request.answers[i] ? "notes" : "meta", text: request.answers[i] || t("Not answered.") }),
    ]));
  }
  return h("details", { class: "prompts" }, h("summary", { text: t("Questions (%(count)s)", { count: request.questions.length }) }),
    h("ul", {}, request.questions.map((q) => h("li", { text: q }))));
}

function requestRow(app, request) {
  const ctx = app.ctx;
  const may = (step) => mayDo(request, step);
  const key = (step) => `journal:feedback:${request.id}:${step}`;
  const send = (op, done) => () => sendJournal(app, [{ ...op, request: request.id }], { done, focus: key("name") });
  const title = request.name && request.name !== request.colleague ? `${request.name} (${request.colleague})` : request.colleague;
  const meta = [t("Asked by %(name)s on %(date)s", { name: calledOf(ctx, request.asked_by), date: dayOf(request.asked_at) })];
  if (request.state === "open" || request.state === "consent") meta.push(t("answer by %(date)s", { date: formatDate(request.expires) }));
  if (request.answered_at) meta.push(t("answered on %(date)s", { date: dayOf(request.answered_at) }));
  const badges = [stateBadge(request)];
  if (request.shared) badges.push(badge(t("Shared with %(name)s", { name: calledOf(ctx, "manager") }), "good"));
  if (request.discussed) badges.push(badge(t("Discussed")));
  const tools = [
    request.link && button(t("Copy link"), () => copyLink(app, request), { key: key("copy"), about: request.name }),
    may("consent") && button(t("Agree: let it go out"), send({ op: "feedback.consent" }, t("The request goes out to %(name)s.",
      { name: request.name })), { primary: true, key: key("consent"), about: request.name }),
    may("share") && (request.shared
      ? button(t("Stop sharing"), send({ op: "feedback.share", shared: false }, t("The answer is yours alone again.")),
        { subtle: true, key: key("unshare"), about: request.name })
      : button(t("Share with %(name)s", { name: nameOf(ctx, "manager") }), send({ op: "feedback.share", shared: true },
        t("The answer is shared with %(name)s.", { name: nameOf(ctx, "manager") })), { key: key("share"), about: request.name })),
    may("discussed") && button(t("Mark as discussed"), send({ op: "feedback.discussed" }, t("Marked as discussed.")),
      { subtle: true, key: key("discussed"), about: request.name }),
    may("withdraw") && button(t("Withdraw"), send({ op: "feedback.withdraw" }, t("The request is withdrawn.")),
      { subtle: true, key: key("withdraw"), about: request.name }),
  ].filter(Boolean);
  return h("li", { key: `journal:feedback:${request.id}` },
    h("p", { class: "item-title", key: key("name"), tabindex: "-1", text: title }),
    h("p", { class: "badges" }, badges),
    h("p", { class: "meta", text: meta.join(" · ") }),
    answersPart(ctx, request),
    tools.length ? h("div", { class: "tools" }, tools) : null,
    linkField(app, request));
}

function body(app) {
  const ctx = app.ctx;
  const journal = journalOf(ctx);
  const employee = ctx.user && ctx.user.role === "employee";
  const requests = journal.feedback || [];
  const children = [h("p", { class: "hint", text: employee
    ? t("Only you read a colleague's answer. %(name)s sees it only once you share it.", { name: nameOf(ctx, "manager") })
    : t("You may ask a colleague on %(name)s's behalf: the request goes out once %(name)s agrees, and you read the answer only if %(name)s shares it.",
      { name: nameOf(ctx, "employee") }) })];
  children.push(requests.length
    ? h("ul", { class: "items" }, requests.map((r) => requestRow(app, r)))
    : h("p", { class: "meta", text: t("No colleague has been asked yet.") }));
  if (mayJournal(ctx, "feedback.ask") && (journal.questions || []).length) children.push(askForm(app));
  return children;
}

/** The card; null when the context has no journal. */
export function feedbackCard(app) {
  const journal = journalOf(app.ctx);
  if (!journal) return null;
  const waiting = (journal.feedback || []).filter((r) => mayDo(r, "consent")).length;
  return journalCard(app, "feedback", t("Feedback from colleagues"), () => body(app), {
    open: waiting > 0,
    note: waiting ? t("%(count)s waiting for you", { count: waiting }) : undefined,
  });
}
