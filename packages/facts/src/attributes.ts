import type { AnyValue, Attributes } from "@vigil/otlp";

/** An attribute as text: strings as they are, numbers and booleans printed, others "". */
export function text(attrs: Attributes, key: string): string {
  const v: AnyValue | undefined = attrs[key];
  if (v === undefined) return "";
  if ("stringValue" in v) return v.stringValue;
  if ("intValue" in v) return v.intValue;
  if ("boolValue" in v) return String(v.boolValue);
  if ("doubleValue" in v) return String(v.doubleValue);
  return "";
}

/** The first non-empty text among `keys`. */
export function firstText(attrs: Attributes, keys: readonly string[]): [string, string] {
  for (const key of keys) {
    const v = text(attrs, key);
    if (v !== "") return [v, key];
  }
  return ["", ""];
}

/** Every string in a (possibly array) attribute: `db.collection.name` may be one or many. */
export function texts(attrs: Attributes, key: string): string[] {
  const v = attrs[key];
  if (v === undefined) return [];
  if ("arrayValue" in v)
    return v.arrayValue.values.flatMap((x) => ("stringValue" in x && x.stringValue !== "" ? [x.stringValue] : []));
  const t = text(attrs, key);
  return t === "" ? [] : [t];
}
