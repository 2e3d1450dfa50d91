// JSON paths as mappings write them: `$`, then `.name`, `[index]` or `["any name"]` steps. Only the
// plain child steps: a mapping names one place in the source record, never a query over many.

export type Step = string | number;

const STEP = /\.([A-Za-z_$@#][\w$@#-]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]|\['((?:[^'\\]|\\.)*)'\]/y;

/** The steps of a path, or undefined when the text is not one. */
export function parsePath(text: string): Step[] | undefined {
  if (!text.startsWith("$")) return undefined;
  const steps: Step[] = [];
  let at = 1;
  while (at < text.length) {
    STEP.lastIndex = at;
    const m = STEP.exec(text);
    if (m === null) return undefined;
    if (m[1] !== undefined) steps.push(m[1]);
    else if (m[2] !== undefined) steps.push(Number(m[2]));
    else steps.push(JSON.parse(`"${m[3] ?? (m[4] as string).replace(/"/g, '\\"')}"`) as string);
    at = STEP.lastIndex;
  }
  return steps;
}

/** The canonical text of steps: `$.payer.account.id`, `$.items[0]`, `$["first name"]`. */
export function formatPath(steps: readonly Step[]): string {
  let out = "$";
  for (const s of steps) {
    if (typeof s === "number") out += `[${s}]`;
    else if (/^[A-Za-z_$@#][\w$@#-]*$/.test(s)) out += `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** A reader for one path, specialised for the short paths mappings mostly use. */
export function reader(steps: readonly Step[]): (source: unknown) => unknown {
  const at = (v: unknown, s: Step): unknown =>
    typeof v === "object" && v !== null && Object.hasOwn(v, s)
      ? (v as Record<string | number, unknown>)[s]
      : undefined;
  if (steps.length === 0) return (v) => v;
  if (steps.length === 1) {
    const a = steps[0] as Step;
    return (v) => at(v, a);
  }
  if (steps.length === 2) {
    const [a, b] = steps as [Step, Step];
    return (v) => at(at(v, a), b);
  }
  return (v) => {
    let cur = v;
    for (const s of steps) {
      cur = at(cur, s);
      if (cur === undefined) return undefined;
    }
    return cur;
  };
}
