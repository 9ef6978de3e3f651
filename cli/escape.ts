/**
 * Names from an image reach a terminal: a control character in one could move the cursor,
 * retitle the window or forge a line of output. Listings print names as `ls -b` does: each
 * C0 control, DEL and C1 control as `\xHH`, and a backslash as `\\`, so every name reads back
 * unambiguously. Messages (errors, warnings) escape only the control characters: they are
 * read, not parsed.
 */
const hex = (c: string) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

export function escapeName(name: string): string {
  return name.replace(/[\\\x00-\x1f\x7f-\x9f]/g, (c) => (c === '\\' ? '\\\\' : hex(c)));
}

export function escapeText(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, hex);
}
