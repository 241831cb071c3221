/**
 * The characters in `text` a terminal acts on instead of showing: C0
 * controls other than the line feed between lines, DEL, C1, the line and
 * paragraph separators, and the bidirectional overrides and isolates.
 */
export function rawControls(text: string): string[] {
  return [...text].filter(char => {
    const code = char.codePointAt(0)!;
    return (
      (code < 0x20 && char !== '\n') ||
      (code >= 0x7f && code <= 0x9f) ||
      code === 0x2028 ||
      code === 0x2029 ||
      (code >= 0x202a && code <= 0x202e) ||
      (code >= 0x2066 && code <= 0x2069)
    );
  });
}
