/**
 * Prompt-injection heuristics: phrases that try to override the agent's instructions,
 * change its role, or send data somewhere. Deliberately specific (each pattern needs an
 * imperative and an object) so that ordinary tickets about passwords or instructions do
 * not match; they mark an input as untrusted, and only an action after it alerts.
 */
const PATTERNS: ReadonlyArray<[string, RegExp]> = [
  [
    "override-instructions",
    /\b(ignore|disregard|forget|override)\b[^.\n]{0,40}\b(previous|prior|above|earlier|all|your|system)\b[^.\n]{0,20}\b(instructions?|prompts?|rules|guidelines|directions)\b/i,
  ],
  ["new-role", /\byou are (now|no longer)\b|\bact as (an? )?(unrestricted|jailbroken|developer mode)|\bDAN mode\b/i],
  [
    "reveal-system-prompt",
    /\b(reveal|print|show|repeat|output)\b[^.\n]{0,30}\b(system prompt|hidden instructions|your instructions)\b/i,
  ],
  [
    "exfiltrate",
    /\b(forward|send|email|upload|post|exfiltrate|copy)\b[^.\n]{0,40}\b(all|every|the)\b[^.\n]{0,30}\b(tickets?|emails?|messages?|records|data|files?|credentials?|passwords?|keys?|tokens?)\b[^.\n]{0,30}\bto\b/i,
  ],
  [
    "hidden-instruction-markup",
    /<\s*(system|instructions?)\s*>|\[\s*(system|INST)\s*\]|###\s*(new|system)\s+instructions/i,
  ],
];

/** The names of the injection patterns an input matches (empty when none). */
export function injectionSignals(input: string): string[] {
  if (input.length < 12) return [];
  return PATTERNS.filter(([, re]) => re.test(input)).map(([name]) => name);
}
