/**
 * The most values one array query parameter carries. Query parameters travel in the
 * HTTP request's form fields, which ClickHouse caps (`http_max_field_value_size`,
 * 128 KiB by default): a detection step under load names tens of thousands of trace ids,
 * and one query with all of them was refused ("Field value too long"), failing the whole
 * step. 2,000 trace ids are about 70 KB.
 */
export const MAX_PARAM_VALUES = 2000;

/** Runs `read` over `values` in slices of at most MAX_PARAM_VALUES, one after another, and joins the results. */
export async function inSlices<V, R>(values: readonly V[], read: (slice: V[]) => Promise<R[]>): Promise<R[]> {
  if (values.length <= MAX_PARAM_VALUES) return read([...values]);
  const out: R[] = [];
  for (let i = 0; i < values.length; i += MAX_PARAM_VALUES)
    out.push(...(await read(values.slice(i, i + MAX_PARAM_VALUES))));
  return out;
}
