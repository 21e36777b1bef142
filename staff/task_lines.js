// The pieces a task is shown with, in the list and in the call view: who, when it is due or
// how it ended, what the customer said.
import { el } from "../common/page.js";
import { clock, duration, text } from "./locale.js";
import { reasonLabel, scaleLabel, scoreText } from "./open_store.js";
import { session } from "./session.js";
import { LIMITS } from "./strings.js";

export function formatPhone(phone) {
  const nanp = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(phone);
  return nanp ? `+1 ${nanp[1]} ${nanp[2]} ${nanp[3]}` : phone;
}

// What a customer typed, without bidi controls and zero-width characters and isolated from
// the text around it: nothing in it can reorder or hide what staff read ("4321 8765" stays
// so, and so does the number beside it).
const INVISIBLE = /[\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g; // joiners stay (emoji)
export function customerText(value) {
  return el("bdi", {}, String(value).replace(INVISIBLE, ""));
}

export function who(task) {
  return task.contact?.name || task.contact?.phone_masked || text("anonymous");
}

export function dueState(task, now = Date.now()) {
  const ms = Date.parse(task.due_at) - now;
  return { ms, overdue: ms < 0, soon: ms >= 0 && ms < LIMITS.soon_ms };
}

export function dueLine(task, due) {
  const line = el("p", { class: ["due", due.overdue && "overdue", due.soon && "soon"] });
  if (due.overdue) line.append(el("strong", { class: "badge" }, text("overdue")), " ", text("overdue_by", duration(-due.ms / 1000)));
  else if (due.soon) line.append(el("strong", { class: "badge" }, text("due_soon")), " ", text("due_in", duration(due.ms / 1000)));
  else line.append(text("due_in", duration(due.ms / 1000)));
  line.append(" ", el("span", { class: "meta" }, `(${text("due_at", clock(task.due_at))})`));
  return line;
}

export function outcomeLine(task) {
  const outcome = text("outcome_short")[task.outcome] ?? task.outcome ?? "";
  return el("p", { class: "due" }, `${text("outcome_label")}: `, el("strong", { "data-outcome": task.outcome }, outcome),
    task.claimed_by ? el("span", { class: "meta" }, ` · ${claimedText(task)}`) : null);
}

export function claimedText(task) {
  return task.claimed_by === session.claims?.sub ? text("claimed_by_you") : text("claimed_by", task.claimed_by ?? "");
}

export function ratingsList(ratings) {
  return el(
    "ul",
    { class: "ratings" },
    ratings.map((rating) =>
      el(
        "li",
        { "data-rating-id": rating.rating_id },
        el("p", {},
          el("span", { class: "score" }, `${text("score_label")} ${scoreText(rating.score)}`),
          scaleLabel(rating.score) ? text("score_feeling", scaleLabel(rating.score)) : " ",
          el("span", { class: "meta" },
            `· ${text("channel")[rating.channel] ?? rating.channel ?? ""} · ${text("rated_at", clock(rating.tapped_at))}`)),
        el("p", {}, `${text("reasons_label")}: `,
          rating.reasons?.length
            ? rating.reasons.flatMap((reason, i) => [
              i ? ", " : null,
              el("span", { class: "reason", "data-reason": reason }, reasonLabel(reason)),
            ])
            : text("no_reasons")),
        rating.comment ? el("p", { class: "comment" }, `${text("comment_label")}: “`, customerText(rating.comment), "”") : null,
      ),
    ),
  );
}
