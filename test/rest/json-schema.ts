/**
 * A small JSON Schema (2020-12 subset) checker for the OpenAPI conformance
 * test: the keywords src/rest/openapi.ts uses, nothing more. Answers the
 * problems found, empty when the value conforms.
 */
type Schema = Record<string, any>;

export function checkSchema(value: unknown, schema: Schema, root: Schema, at = "$"): string[] {
  if (typeof schema.$ref === "string") {
    const target = schema.$ref
      .replace(/^#\//, "")
      .split("/")
      .reduce((node: any, part: string) => node?.[part], root);
    if (!target) return [`${at}: unresolved ${schema.$ref}`];
    return checkSchema(value, target, root, at);
  }
  const problems: string[] = [];
  const types: string[] | undefined = schema.type === undefined ? undefined : [].concat(schema.type);
  if (types && !types.some((type) => isType(value, type))) {
    return [`${at}: expected ${types.join(" or ")}, got ${JSON.stringify(value)?.slice(0, 80)}`];
  }
  if ("const" in schema && value !== schema.const) problems.push(`${at}: expected ${JSON.stringify(schema.const)}`);
  if (schema.enum && !schema.enum.includes(value)) problems.push(`${at}: ${JSON.stringify(value)} not in ${schema.enum}`);
  if (typeof value === "string") {
    if (schema.pattern && !new RegExp(schema.pattern).test(value)) problems.push(`${at}: does not match ${schema.pattern}`);
    if (schema.minLength !== undefined && [...value].length < schema.minLength) problems.push(`${at}: too short`);
    if (schema.maxLength !== undefined && [...value].length > schema.maxLength) problems.push(`${at}: too long`);
    if (schema.format === "date-time" && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
      problems.push(`${at}: not a date-time: ${value}`);
    }
  }
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) problems.push(`${at}: below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) problems.push(`${at}: above ${schema.maximum}`);
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => problems.push(...checkSchema(item, schema.items, root, `${at}[${i}]`)));
  }
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    for (const name of schema.required ?? []) {
      if (!(name in record)) problems.push(`${at}: missing ${name}`);
    }
    const properties: Schema = schema.properties ?? {};
    for (const [name, item] of Object.entries(record)) {
      if (name in properties) problems.push(...checkSchema(item, properties[name], root, `${at}.${name}`));
      else if (schema.additionalProperties === false) problems.push(`${at}: unexpected field ${name}`);
      else if (typeof schema.additionalProperties === "object") {
        problems.push(...checkSchema(item, schema.additionalProperties, root, `${at}.${name}`));
      }
    }
  }
  return problems;
}

function isType(value: unknown, type: string): boolean {
  switch (type) {
    case "null":
      return value === null;
    case "array":
      return Array.isArray(value);
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    case "integer":
      return Number.isInteger(value);
    default:
      return typeof value === type;
  }
}
