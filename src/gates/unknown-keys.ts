// The message for keys a strict settings or service block does not know, shared by the gate and
// traffic schemas: `unknown key "x" in <where> (allowed: <allowed>)`.

/** A zod `error` option for `z.strictObject`: names the unknown keys; other issues keep zod's message. */
export const unknownKeys = (where: string, allowed: string) => (issue: { code?: string; keys?: string[] }) =>
  issue.code === 'unrecognized_keys' && issue.keys
    ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} in ${where} (allowed: ${allowed})`
    : undefined;
