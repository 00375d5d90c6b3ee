/**
 * What an agent wrote reaches the CLI's output (tool names, inputs, session ids), so
 * it may carry terminal escape sequences: moving the cursor, rewriting earlier lines,
 * setting the window title, or hiding text with bidirectional overrides. Every control
 * character but newline and tab, DEL, the C1 controls (U+0080 to U+009F, which some
 * terminals read as escape introducers) and the bidi controls are printed as `\uXXXX`.
 * Inside JSON output that is the same string value, so `--json` stays valid.
 */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
