// The storepulse staff page: sign in (e-mail and password, through the user pool), see a
// store's callback tasks by deadline, claim one, call the customer, record each call and
// how it went, see who did what; recovery figures beside. English or Chinese; the store's scale from its survey.
//
// One ES module per screen or concern, no build step; this entry module wires them:
//   session.js     who is signed in (the token's claims), kept fresh, and which store is open
//   api.js         the API calls, and what a 401 or a 403 does (said below)
//   open_store.js  the open store's tasks, survey, limits and figures, refreshed
//   signin.js      the sign-in, store choice and sign-out screens
//   cognito.js     the user pool's sign-in calls (Cognito's JSON API): sign-in, renewal, revoke
//   tasks.js       the task list          call_view.js  one task: call, record, resolve
//   recovery.js    the recovery figures   task_lines.js what a task is shown with
//   languages.js   the language switch    locale.js     text(), times and durations
//   messages.js    status and error lines strings.js    every string, and the page's limits
//   dashboard/     the open store's figures: charts (vendor/uplot), tables, CSV downloads
//   admin/         the admin screens (stores, surveys, kiosks, people, credentials, the
//                  CSV upload, my notifications): admin/admin.js's header lists them
// A new screen is a module with its render and wire(), listed in SCREENS and, if it writes
// words, rendered again in languages.js.
import { apiAddress } from "../common/page.js";
import * as admin from "./admin/admin.js";
import { onRefusal, useApi } from "./api.js";
import * as callView from "./call_view.js";
import * as dashboard from "./dashboard/dashboard.js";
import * as languages from "./languages.js";
import { text } from "./locale.js";
import { refuse } from "./open_store.js";
import * as recovery from "./recovery.js";
import * as signin from "./signin.js";
import * as tasks from "./tasks.js";

const SCREENS = [admin, signin, tasks, callView, recovery, dashboard, languages];

signin.takeLink();
onRefusal(401, () => signin.signOut(() => text("signed_out_401")));
onRefusal(403, refuse);
languages.renderTexts();
for (const screen of SCREENS) screen.wire();
useApi(await apiAddress());
signin.route();
