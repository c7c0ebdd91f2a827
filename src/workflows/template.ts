import { compileExpression } from 'filtrex';

/**
 * Workflow variables, with NocoBase's names: `{{$context.data.amount}}`, `{{$jobsMapByNodeKey.erp.body.id}}`,
 * `{{$env.ERP_TOKEN}}`. A template that is the whole string keeps its JSON type; one inside a string is rendered as
 * text. A missing path is null, never an exception, and only a value's own properties are reachable (`__proto__`,
 * `constructor` and `prototype` are refused when a workflow is saved and resolve to null if they get this far).
 */

/** What templates and expressions can reach. */
export interface Scope {
  $context: unknown;
  $jobsMapByNodeKey: Record<string, unknown>;
  $env: Record<string, string>;
}

export const ROOTS = ['$context', '$jobsMapByNodeKey', '$env'] as const;
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);
const TEMPLATE = /\{\{\s*([^{}]*?)\s*\}\}/g;
const WHOLE = /^\{\{\s*([^{}]*?)\s*\}\}$/;
const MAX_EXPRESSION_LENGTH = 2_000;

/** A path's segments: `a.b[0].c` → ['a', 'b', '0', 'c']. */
export function pathSegments(path: string): string[] {
  return path.replace(/\[(\d+)\]/g, '.$1').split('.').filter((segment) => segment !== '');
}

/** Why a variable path cannot be used, or null when it can. */
export function pathProblem(path: string): string | null {
  const segments = pathSegments(path);
  const root = segments[0];
  if (root === undefined) return 'an empty variable';
  if (!(ROOTS as readonly string[]).includes(root)) return `unknown variable "${root}" (use ${ROOTS.join(', ')})`;
  const forbidden = segments.find((segment) => FORBIDDEN_SEGMENTS.has(segment));
  if (forbidden !== undefined) return `"${forbidden}" is not allowed in a variable path`;
  return null;
}

/** The value at `path` in the scope; null when any step is missing. */
export function resolvePath(scope: Scope, path: string): unknown {
  let value: unknown = scope;
  for (const segment of pathSegments(path)) {
    if (FORBIDDEN_SEGMENTS.has(segment) || value === null || typeof value !== 'object') return null;
    if (Array.isArray(value)) {
      if (!/^\d+$/.test(segment)) return null;
      value = value[Number(segment)];
    } else {
      if (!Object.hasOwn(value, segment)) return null;
      value = (value as Record<string, unknown>)[segment];
    }
    if (value === undefined) return null;
  }
  return value;
}

const asText = (value: unknown): string =>
  value === null || value === undefined ? '' : typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);

/** Renders every string inside `value` (objects and arrays recursively). */
export function render(value: unknown, scope: Scope): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole) return resolvePath(scope, whole[1]!);
    if (!value.includes('{{')) return value;
    return value.replace(TEMPLATE, (_match, path: string) => asText(resolvePath(scope, path)));
  }
  if (Array.isArray(value)) return value.map((item) => render(item, scope));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = render(item, scope);
    return out;
  }
  return value;
}

/** Every template problem inside `value`, with where it is (`config.url`). */
export function templateProblems(value: unknown, at: string): string[] {
  if (typeof value === 'string') {
    const problems: string[] = [];
    for (const match of value.matchAll(TEMPLATE)) {
      const problem = pathProblem(match[1]!);
      if (problem !== null) problems.push(`${at}: ${problem}`);
    }
    // A `{{` left over is a template that does not close.
    if (value.replace(TEMPLATE, '').includes('{{')) problems.push(`${at}: a template is not closed with }}`);
    return problems;
  }
  if (Array.isArray(value)) return value.flatMap((item, index) => templateProblems(item, `${at}[${index}]`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => templateProblems(item, `${at}.${key}`));
  }
  return [];
}

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'if', 'then', 'else', 'of', 'true', 'false', 'mod']);

/** The variables an expression reads: quoted ('…') and bare symbols, not function names, keywords or strings. */
function expressionNames(expression: string): string[] {
  const names: string[] = [];
  const code = expression.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/'((?:[^'\\]|\\.)*)'/g, (_match, name: string) => {
    names.push(name);
    return '0';
  });
  for (const match of code.matchAll(/(?<![\w$.])[A-Za-z_$][\w$.]*(?![\w$.])(?!\s*\()/g)) {
    if (!KEYWORDS.has(match[0])) names.push(match[0]);
  }
  return names;
}

// ---- expressions (condition and calculation): filtrex, a small language that cannot reach anything we do not hand it

export type Expression = (scope: Scope) => unknown;

const EXTRA_FUNCTIONS = {
  lower: (text: unknown) => asText(text).toLowerCase(),
  upper: (text: unknown) => asText(text).toUpperCase(),
  len: (value: unknown) => (typeof value === 'string' || Array.isArray(value) ? value.length : 0),
  concat: (...parts: unknown[]) => parts.map(asText).join(''),
  number: (value: unknown) => Number(value),
  text: (value: unknown) => asText(value),
  contains: (haystack: unknown, needle: unknown) =>
    Array.isArray(haystack) ? haystack.includes(needle) : asText(haystack).includes(asText(needle)),
  now: () => Date.now(),
};

/**
 * Compiles an expression such as `$context.data.amount > 100 and $context.data.type == "invoice.paid"`. Variables are
 * the template paths (dotted; quote one with other characters: `'$context.headers.x-github-event'`). Throws with the
 * reason when it does not parse or names something it cannot reach.
 */
export function compile(expression: string): Expression {
  if (expression.length > MAX_EXPRESSION_LENGTH) throw new Error(`an expression is at most ${MAX_EXPRESSION_LENGTH} characters`);
  // filtrex reports a parse error by throwing; the names it would read are checked here, not at run time.
  compileExpression(expression, { extraFunctions: EXTRA_FUNCTIONS });
  for (const name of expressionNames(expression)) {
    const problem = pathProblem(name);
    if (problem !== null) throw new Error(problem);
  }
  const compiled = compileExpression(expression, {
    extraFunctions: EXTRA_FUNCTIONS,
    customProp: (name, _get, scope: Scope) => resolvePath(scope, name),
  });
  return (scope) => {
    const result: unknown = compiled(scope);
    // filtrex returns (rather than throws) the errors of a run, such as a function given the wrong input.
    if (result instanceof Error) throw new Error(`the expression failed: ${result.message}`);
    return result;
  };
}
