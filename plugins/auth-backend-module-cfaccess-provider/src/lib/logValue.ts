/** Most characters of one foreign value a log entry carries. */
export const LOG_VALUE_MAX_CHARS = 200;

// JSON.stringify escapes C0 controls (CR, LF, ESC) but not these: DEL and the
// C1 controls (U+009B is a one-character ANSI escape), the line and paragraph
// separators, and the bidirectional marks and overrides that reorder what a
// reader sees.
const LEFT_BY_JSON =
  '\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069';
const UNSAFE_AFTER_JSON = new RegExp(`[${LEFT_BY_JSON}]`, 'g');
// Text that was not JSON-encoded first carries the C0 controls raw as well.
const UNSAFE_ON_TERMINAL = new RegExp(`[\\u0000-\\u001f${LEFT_BY_JSON}]`, 'g');

const unicodeEscape = (char: string) =>
  `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * JSON.stringify's output with the characters it leaves raw written as
 * `\uXXXX` escapes: still JSON with the same values (in its output these
 * characters can only stand inside a string), and nothing a terminal acts on.
 */
export const escapeAfterJson = (json: string) =>
  json.replace(UNSAFE_AFTER_JSON, unicodeEscape);

/**
 * One line of text for a terminal with every character a terminal acts on
 * (all C0 controls, CR, LF, TAB and ESC included, DEL, C1, the separators and
 * the bidirectional overrides) shown as `\uXXXX` text: a foreign value in it
 * cannot end the line, fake another, or drive the terminal.
 */
export const escapeForTerminal = (text: string) =>
  text.replace(UNSAFE_ON_TERMINAL, unicodeEscape);

function textOf(value: unknown): string {
  if (value instanceof Error) {
    return value.message;
  }
  if (typeof value === 'string') {
    return value;
  }
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** The text cut to LOG_VALUE_MAX_CHARS, and how many characters were cut. */
function cap(value: unknown): { text: string; cut: number } {
  const text = textOf(value);
  const cut = Math.max(0, text.length - LOG_VALUE_MAX_CHARS);
  return { text: cut > 0 ? text.slice(0, LOG_VALUE_MAX_CHARS) : text, cut };
}

const cutNote = (cut: number) => (cut > 0 ? `…(${cut} more characters)` : '');

/**
 * The one way a foreign value (a claim, an email, a group name, a header, a
 * network error's message) enters a log message: as a JSON string literal,
 * so it cannot end the line, fake another entry or drive the terminal, and
 * cut to {@link LOG_VALUE_MAX_CHARS} characters, so it cannot flood the log.
 * Errors are described by their message.
 */
export function logValue(value: unknown): string {
  const { text, cut } = cap(value);
  return `${escapeAfterJson(JSON.stringify(text))}${cutNote(cut)}`;
}

/**
 * The same value for a structured log field (`meta`), which Backstage's
 * logger JSON-encodes itself: cut and with the controls JSON leaves alone
 * escaped, but not quoted, so the field stays searchable.
 */
export function logField(value: unknown): string {
  const { text, cut } = cap(value);
  return `${escapeAfterJson(text)}${cutNote(cut)}`;
}
