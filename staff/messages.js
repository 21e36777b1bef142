// The page's messages (#status, #error, a field's error): each kept as how to write it, so
// a change of language rewrites what is shown.
import { $ } from "../common/page.js";

const messages = new Map(); // element id -> () => its text in the current language
let errorSource = null; // what put the message in #error: "load" or "action"

// A message is a string or a function that writes it in the current language.
export function put(id, message) {
  const write = typeof message === "function" ? message : () => message ?? "";
  messages.set(id, write);
  const value = write();
  if ($(id).textContent !== value) $(id).textContent = value;
  return value;
}

export function say(message) {
  put("status", message);
}

export function showError(message, source) {
  errorSource = source;
  put("error", message);
}

// Clears #error; given a source, only the message that source put there.
export function clearError(source) {
  if (source === undefined || errorSource === source) {
    put("error", "");
    errorSource = null;
  }
}

export function fieldError(input, output, message) {
  message = put(output, message);
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  if (message) input.focus();
}

export function rewriteMessages() {
  for (const [id, write] of messages) $(id).textContent = write();
}
