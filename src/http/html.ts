/**
 * Text from users (names, links, error messages) into HTML. Everything is escaped; bidi overrides and isolates are
 * dropped and the text is wrapped in <bdi>, so a name written right to left cannot reorder the page around it.
 */

/** Controls that move text around: C0/C1 (but tab), LRE/RLE/PDF/LRO/RLO, LRI/RLI/FSI/PDI, ALM. */
const HOSTILE_CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u061c]/g;

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** Text a user chose, made inert: the same cleaning the page's script applies to what it polls. */
export function cleanText(text: string): string {
  return text.replace(HOSTILE_CONTROLS, "");
}

/** A user's text as an isolated, escaped run. */
export function userText(text: string): string {
  return `<bdi>${escapeHtml(cleanText(text))}</bdi>`;
}
