import { HookyardError } from '../../errors.js';
import type { DocumentScan, DocumentWrites, Store, StoredDocument } from '../../store/store.js';
import { COLLECTION_NAME, isPlainObject, kindOfValue, newDocumentId } from './documents.js';

/**
 * pymongo's collection methods over the handlers' documents (the rows `ctx.db.collection(name)` sees), JSON in and out,
 * for clients that send their calls over a pipe (Python handlers' `mongo_client`, JS handlers in worker threads).
 *
 * - `_id` is a non-empty string (the store's key is text: a number would come back as a string), generated as
 *   `ctx.db` does when missing.
 * - Comparisons ($gt …) match values of the same JSON type only (numbers, strings, booleans, null); sort orders types
 *   null/missing < numbers < strings < objects < arrays < booleans. Equality on an array also matches its elements.
 * - Dotted paths go through objects only (no array indexes or traversal of arrays of objects).
 * - Scalar equalities are filtered in SQL; the rest in TS over at most SCAN_CAP candidate rows, beyond which an
 *   operation that needs them all fails and asks for an equality filter.
 * - Updates and deletes are read-modify-writes under the store's row locks (`modifyDocuments`): concurrent $inc all
 *   count. Two racing upserts without an _id in the filter may both insert, as in MongoDB without a unique index.
 */
export class MongoOperationError extends Error {
  constructor(message: string, readonly code: 'invalid' | 'duplicate_key' = 'invalid') {
    super(message);
    this.name = 'MongoOperationError';
  }
}

export type MongoOp =
  | 'insert_one' | 'insert_many' | 'find_one' | 'find' | 'update_one' | 'update_many' | 'delete_one' | 'delete_many' | 'count_documents';

export type MongoStore = Pick<Store, 'insertDocument' | 'scanDocuments' | 'modifyDocuments'>;

export type MongoExecutor = (collection: string, op: string, args: unknown[]) => Promise<unknown>;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Doc = Record<string, Json>;
type Field = { found: boolean; value: Json };
type Predicate = (doc: Doc) => boolean;

export const SCAN_CAP = 10_000;
const MAX_DEPTH = 100;
const QUERY_OPERATORS = '$eq $ne $gt $gte $lt $lte $in $nin $exists';
const UPDATE_OPERATORS = '$set $unset $inc $push $setOnInsert';
// As the store's field check; all-digit segments stay in TS, where paths never index arrays (PostgreSQL's #> would).
const SQL_SEGMENT = /^(?!\d+$)[A-Za-z0-9_$-]{1,100}$/;

const kind = (value: unknown): string => (value === undefined ? 'nothing' : kindOfValue(value));

const fail = (message: string): never => {
  throw new MongoOperationError(message);
};

function checkJson(value: unknown, what: string, depth = 0): Json {
  if (depth > MAX_DEPTH) fail(`${what} is nested deeper than ${MAX_DEPTH} levels`);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : fail(`${what} holds ${String(value)}, which JSON cannot store`);
  if (Array.isArray(value)) {
    for (const item of value) checkJson(item, what, depth + 1);
    return value as Json[];
  }
  if (!isPlainObject(value)) return fail(`${what} must be plain JSON, but holds ${value === undefined ? 'undefined' : kind(value)}`);
  for (const key of Object.keys(value)) checkJson(value[key], `${what} (field "${key}")`, depth + 1);
  return value as Doc;
}

function objectArg(value: unknown, what: string): Doc {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) return fail(`${what} must be an object, got ${kind(value)}`);
  return checkJson(value, what) as Doc;
}

function pathOf(field: string, what: string): string[] {
  const path = field.split('.');
  if (field.length > 1000 || path.some((segment) => segment === '' || segment.startsWith('$') || segment === '__proto__')) {
    fail(`invalid field path "${field}" in ${what}`);
  }
  return path;
}

const isObject = (value: Json | undefined): value is Doc => typeof value === 'object' && value !== null && !Array.isArray(value);

function lookup(doc: Doc, path: readonly string[]): Field {
  let at: Json = doc;
  for (const segment of path) {
    if (!isObject(at) || !Object.hasOwn(at, segment)) return { found: false, value: null };
    at = at[segment]!;
  }
  return { found: true, value: at };
}

function deepEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as Json[]).length && a.every((item, i) => deepEqual(item, (b as Json[])[i]!));
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && deepEqual(a[key]!, (b as Doc)[key]!));
}

const TYPE_RANK = { null: 0, number: 1, string: 2, object: 3, array: 4, boolean: 5 } as const;
const typeOf = (value: Json): keyof typeof TYPE_RANK =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : (typeof value as 'number' | 'string' | 'boolean' | 'object');

/** Sort order across types; within one, natural order (objects and arrays by their JSON text, pragmatically). */
function compare(a: Json, b: Json): number {
  const ta = typeOf(a);
  const tb = typeOf(b);
  if (ta !== tb) return TYPE_RANK[ta] - TYPE_RANK[tb];
  if (ta === 'null') return 0;
  if (ta === 'object' || ta === 'array') [a, b] = [JSON.stringify(a), JSON.stringify(b)];
  return a! < b! ? -1 : a! > b! ? 1 : 0;
}

/** Mongo's equality: an array matches its own value or any element's; null matches a missing field too. */
function equalsAt(field: Field, x: Json): boolean {
  if (x === null && !field.found) return true;
  if (!field.found) return false;
  return deepEqual(field.value, x) || (Array.isArray(field.value) && field.value.some((item) => deepEqual(item, x)));
}

function comparesAt(field: Field, x: Json, accept: (order: number) => boolean): boolean {
  const candidates = field.found ? (Array.isArray(field.value) ? [field.value, ...field.value] : [field.value]) : [null];
  return candidates.some((value) => typeOf(value) === typeOf(x) && accept(compare(value, x)));
}

const COMPARISONS: Record<string, (order: number) => boolean> = {
  $gt: (order) => order > 0, $gte: (order) => order >= 0, $lt: (order) => order < 0, $lte: (order) => order <= 0,
};

interface CompiledFilter {
  test: Predicate;
  /** What SQL can filter: scalar equalities and `_id`s. */
  scan: Omit<DocumentScan, 'limit'>;
  /** True when SQL alone decides the match (then a limit can go to SQL too). */
  exact: boolean;
  /** The equalities an upsert builds its new document from. */
  equalities: Array<[path: string[], value: Json]>;
}

function compileFieldOperators(path: string[], ops: Doc, field: string): { test: Predicate; pushed: boolean } {
  const tests: Predicate[] = [];
  let pushed = false;
  for (const [op, x] of Object.entries(ops)) {
    const at = (doc: Doc) => lookup(doc, path);
    if (op === '$eq') tests.push((doc) => equalsAt(at(doc), x));
    else if (op === '$ne') tests.push((doc) => !equalsAt(at(doc), x));
    else if (op === '$in' || op === '$nin') {
      if (!Array.isArray(x)) fail(`${op} on "${field}" needs an array, got ${kind(x)}`);
      const values = x as Json[];
      const inside = (doc: Doc) => values.some((value) => equalsAt(at(doc), value));
      tests.push(op === '$in' ? inside : (doc) => !inside(doc));
    } else if (op === '$exists') {
      if (typeof x !== 'boolean' && typeof x !== 'number') fail(`$exists on "${field}" needs true or false, got ${kind(x)}`);
      tests.push((doc) => at(doc).found === Boolean(x));
    } else if (op in COMPARISONS) {
      if (typeof x === 'object' && x !== null) fail(`${op} on "${field}" needs a number, string, boolean or null, got ${kind(x)}`);
      const accept = COMPARISONS[op]!;
      tests.push((doc) => comparesAt(at(doc), x, accept));
    } else {
      fail(`unsupported query operator ${op} (supported: ${QUERY_OPERATORS})`);
    }
    pushed ||= op === '$eq';
  }
  return { test: (doc) => tests.every((test) => test(doc)), pushed: pushed && Object.keys(ops).length === 1 };
}

function compileFilter(filter: Doc, depth = 0): CompiledFilter {
  if (depth > MAX_DEPTH) fail(`a filter is nested deeper than ${MAX_DEPTH} levels`);
  const tests: Predicate[] = [];
  const scan: CompiledFilter['scan'] = { fields: {} };
  const equalities: CompiledFilter['equalities'] = [];
  let exact = true;
  // A second equality on one field stays in TS: SQL's limit would then count documents that TS rejects.
  const pushField = (field: string, x: string | number | boolean | null) => {
    if (Object.hasOwn(scan.fields, field)) exact = false;
    else scan.fields[field] = x;
  };
  const pushIds = (ids: string[]) => {
    if (scan.ids !== undefined) exact = false;
    else scan.ids = ids;
  };
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and' || key === '$or' || key === '$nor') {
      if (!Array.isArray(value) || value.length === 0 || !value.every(isObject)) fail(`${key} needs a non-empty array of filters`);
      const parts = (value as Doc[]).map((part) => compileFilter(part, depth + 1));
      if (key === '$and') {
        tests.push((doc) => parts.every((part) => part.test(doc)));
        for (const part of parts) {
          equalities.push(...part.equalities);
          for (const [field, scalar] of Object.entries(part.scan.fields)) pushField(field, scalar);
          if (part.scan.ids !== undefined) pushIds([...part.scan.ids]);
          exact &&= part.exact;
        }
        continue;
      }
      const any = (doc: Doc) => parts.some((part) => part.test(doc));
      tests.push(key === '$or' ? any : (doc) => !any(doc));
      exact = false;
      continue;
    }
    if (key.startsWith('$')) fail(`unsupported query operator ${key} (supported: ${QUERY_OPERATORS} and $and $or $nor)`);
    const path = pathOf(key, 'a filter');
    const operators = isObject(value) && Object.keys(value).some((name) => name.startsWith('$'));
    if (operators && !Object.keys(value).every((name) => name.startsWith('$'))) {
      fail(`the filter on "${key}" mixes operators and fields: use {"$eq": {...}} to match an object`);
    }
    let x: Json = value;
    if (operators) {
      const compiled = compileFieldOperators(path, value, key);
      tests.push(compiled.test);
      if (!compiled.pushed) {
        exact = false;
        continue;
      }
      x = value.$eq!;
    } else {
      tests.push((doc) => equalsAt(lookup(doc, path), x));
    }
    equalities.push([path, x]);
    if (key === '_id' && typeof x === 'string') pushIds([x]);
    else if (key !== '_id' && (x === null || typeof x !== 'object') && path.every((segment) => SQL_SEGMENT.test(segment))) pushField(key, x);
    else exact = false;
  }
  const idsIn = isObject(filter._id) && Array.isArray(filter._id.$in) ? filter._id.$in : null;
  // Only a prefilter (exact stays false): ids that are not strings can match no document.
  if (idsIn !== null && scan.ids === undefined) scan.ids = idsIn.filter((id): id is string => typeof id === 'string');
  return { test: (doc) => tests.every((test) => test(doc)), scan, exact, equalities };
}

type UpdateOps = Partial<Record<'$set' | '$unset' | '$inc' | '$push' | '$setOnInsert', Array<[path: string[], value: Json, field: string]>>>;

function compileUpdate(update: unknown): UpdateOps {
  const doc = objectArg(update, 'an update');
  const keys = Object.keys(doc);
  if (keys.length === 0) fail('an update needs at least one operator, such as {"$set": {...}}');
  if (!keys.some((key) => key.startsWith('$'))) {
    fail(`an update must use operators (${UPDATE_OPERATORS}), such as {"$set": {...}}; replacing a whole document is not supported`);
  }
  const ops: UpdateOps = {};
  const paths: string[] = [];
  for (const key of keys) {
    if (!UPDATE_OPERATORS.split(' ').includes(key)) {
      fail(key.startsWith('$') ? `unsupported update operator ${key} (supported: ${UPDATE_OPERATORS})` : `an update mixes operators and the field "${key}"`);
    }
    const fields = doc[key];
    if (!isObject(fields)) return fail(`${key} needs an object of fields, got ${kind(fields)}`);
    ops[key as keyof UpdateOps] = Object.entries(fields).map(([field, value]) => {
      const path = pathOf(field, key);
      if (path[0] === '_id') fail(`${key} cannot change "_id": a document's id is fixed`);
      if (key === '$inc' && typeof value !== 'number') fail(`$inc on "${field}" needs a number, got ${kind(value)}`);
      paths.push(field);
      return [path, value, field];
    });
  }
  for (const a of paths) {
    const clash = paths.find((b) => a !== b && a.startsWith(`${b}.`)) ?? (paths.filter((b) => b === a).length > 1 ? a : undefined);
    if (clash !== undefined) fail(`the update changes "${a}" and "${clash}" at once`);
  }
  return ops;
}

/** The object holding the last segment of `path`, creating missing objects on the way (null when `create` is false). */
function parentOf(doc: Doc, path: readonly string[], field: string, create: boolean): Doc | null {
  let at: Doc = doc;
  for (const segment of path.slice(0, -1)) {
    if (!Object.hasOwn(at, segment)) {
      if (!create) return null;
      at[segment] = {};
    }
    const next = at[segment]!;
    if (!isObject(next)) return create ? fail(`cannot set "${field}": "${segment}" holds ${kind(next)}, not an object`) : null;
    at = next;
  }
  return at;
}

function applyUpdate(source: Doc, ops: UpdateOps, inserting: boolean): Doc {
  const doc = structuredClone(source);
  const sets = [...(ops.$set ?? []), ...(inserting ? (ops.$setOnInsert ?? []) : [])];
  for (const [path, value, field] of sets) parentOf(doc, path, field, true)![path.at(-1)!] = structuredClone(value);
  for (const [path, , field] of ops.$unset ?? []) {
    const parent = parentOf(doc, path, field, false);
    if (parent !== null) delete parent[path.at(-1)!];
  }
  for (const [path, by, field] of ops.$inc ?? []) {
    const parent = parentOf(doc, path, field, true)!;
    const last = path.at(-1)!;
    const current = Object.hasOwn(parent, last) ? parent[last]! : 0;
    if (typeof current !== 'number') fail(`cannot $inc "${field}": it holds ${kind(current)}, not a number`);
    const next = (current as number) + (by as number);
    parent[last] = Number.isFinite(next) ? next : fail(`$inc on "${field}" overflows`);
  }
  for (const [path, value, field] of ops.$push ?? []) {
    const parent = parentOf(doc, path, field, true)!;
    const last = path.at(-1)!;
    const current = Object.hasOwn(parent, last) ? parent[last]! : [];
    if (!Array.isArray(current)) fail(`cannot $push to "${field}": it holds ${kind(current)}, not an array`);
    parent[last] = [...(current as Json[]), ...pushed(value, field)];
  }
  return doc;
}

function pushed(value: Json, field: string): Json[] {
  if (!isObject(value) || !Object.keys(value).some((key) => key.startsWith('$'))) return [structuredClone(value)];
  const modifier = Object.keys(value).find((key) => key !== '$each');
  if (modifier !== undefined) fail(`unsupported $push modifier ${modifier} on "${field}" (supported: $each)`);
  if (!Array.isArray(value.$each)) fail(`$each on "${field}" needs an array, got ${kind(value.$each)}`);
  return structuredClone(value.$each as Json[]);
}

function project(doc: Doc, projection: Doc | null): Doc {
  if (projection === null) return doc;
  const entries = Object.entries(projection).map(([field, on]) => {
    if (on !== 0 && on !== 1 && typeof on !== 'boolean') fail(`a projection's value for "${field}" must be 1, 0, true or false`);
    return [pathOf(field, 'a projection'), Boolean(on), field] as const;
  });
  const fields = entries.filter(([path]) => path.join('.') !== '_id');
  const idEntry = entries.find(([path]) => path.join('.') === '_id')?.[1];
  const including = fields.length > 0 ? fields[0]![1] : idEntry === true;
  if (fields.some(([, on]) => on !== including)) fail('a projection cannot mix included and excluded fields (except _id)');
  const withId = idEntry ?? true;
  if (!including) {
    const out = structuredClone(doc);
    for (const [path, , field] of withId ? fields : [...fields, [['_id'], false, '_id'] as const]) {
      const parent = parentOf(out, path, field, false);
      if (parent !== null) delete parent[path.at(-1)!];
    }
    return out;
  }
  const out: Doc = withId ? { _id: doc._id! } : {};
  for (const [path, , field] of fields) {
    const { found, value } = lookup(doc, path);
    if (found) parentOf(out, path, field, true)![path.at(-1)!] = structuredClone(value);
  }
  return out;
}

type SortKey = Array<[path: string[], direction: 1 | -1]>;

function sortOf(value: unknown): SortKey | null {
  if (value === undefined || value === null) return null;
  const pairs = Array.isArray(value) ? value : isPlainObject(value) ? Object.entries(value) : fail(`sort must be [[field, 1 or -1], ...] or {field: 1 or -1}`);
  return pairs.map((pair) => {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || (pair[1] !== 1 && pair[1] !== -1)) {
      return fail(`sort must be [[field, 1 or -1], ...] or {field: 1 or -1}, got ${JSON.stringify(pair) ?? kind(pair)} in it`);
    }
    return [pathOf(pair[0], 'sort'), pair[1]];
  });
}

function countOption(value: unknown, name: string): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) fail(`${name} must be a non-negative integer, got ${JSON.stringify(value) ?? kind(value)}`);
  return value as number;
}

function optionsOf(value: unknown, op: string, known: readonly string[]): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) return fail(`${op}'s options must be an object, got ${kind(value)}`);
  const unknown = Object.keys(value).find((key) => !known.includes(key));
  if (unknown !== undefined) fail(`unknown option "${unknown}" for ${op} (known: ${known.join(', ') || 'none'})`);
  return value;
}

function newDocument(value: unknown, what: string, now: number): StoredDocument {
  if (!isPlainObject(value)) return fail(`${what} must be an object, got ${kind(value)}`);
  const { _id, ...data } = checkJson(value, what) as Doc;
  const dollar = Object.keys(data).find((key) => key.startsWith('$'));
  if (dollar !== undefined) fail(`${what} has the field "${dollar}": names starting with $ are operators`);
  return { id: idOf(_id, what, now), data, createdAt: now, updatedAt: now };
}

function idOf(id: Json | undefined, what: string, now: number): string {
  if (id === undefined) return newDocumentId(now);
  if (typeof id !== 'string' || id === '') return fail(`${what}'s _id must be a non-empty string (ids are stored as text), got ${JSON.stringify(id)}`);
  return id;
}

const toDoc = (stored: StoredDocument): Doc => ({ _id: stored.id, ...(stored.data as Doc) });

const ARITY: Record<MongoOp, number> = {
  insert_one: 1, insert_many: 1, find_one: 2, find: 2, update_one: 3, update_many: 3, delete_one: 1, delete_many: 1, count_documents: 2,
};

export function createMongoExecutor(store: MongoStore, now: () => number, options: { scanCap?: number } = {}): MongoExecutor {
  const scanCap = options.scanCap ?? SCAN_CAP;
  /** The matching documents, oldest first: all of them, or the first `wanted` when given. */
  const matching = (found: StoredDocument[], filter: CompiledFilter, wanted: number | null, op: string): StoredDocument[] => {
    const matched = found.filter((stored) => filter.test(toDoc(stored)));
    if (found.length > scanCap && (wanted === null || matched.length < wanted)) {
      fail(`${op} would examine more than ${scanCap} documents: add an equality filter on a field (or _id) to narrow it`);
    }
    return wanted === null ? matched : matched.slice(0, wanted);
  };
  const scanFor = (filter: CompiledFilter, wanted: number | null): DocumentScan =>
    ({ ...filter.scan, limit: filter.exact && wanted !== null ? Math.min(wanted, scanCap + 1) : scanCap + 1 });

  async function read(collection: string, filterArg: unknown, options: Record<string, unknown>, op: string, one: boolean): Promise<Doc[]> {
    const filter = compileFilter(objectArg(filterArg, 'a filter'));
    const sort = sortOf(options.sort);
    const skip = countOption(options.skip, 'skip');
    const limit = one ? 1 : countOption(options.limit, 'limit');
    const projection = options.projection === undefined || options.projection === null ? null
      : Array.isArray(options.projection) ? Object.fromEntries(options.projection.map((field) => [typeof field === 'string' ? field : fail('a projection list holds field names'), 1]))
        : objectArg(options.projection, 'a projection');
    const wanted = sort === null && limit > 0 ? skip + limit : null;
    let docs = matching(await store.scanDocuments(collection, scanFor(filter, wanted)), filter, wanted, op).map(toDoc);
    if (sort !== null) {
      docs.sort((a, b) => {
        for (const [path, direction] of sort) {
          const order = compare(lookup(a, path).value, lookup(b, path).value);
          if (order !== 0) return order * direction;
        }
        return 0;
      });
    }
    docs = docs.slice(skip, limit > 0 ? skip + limit : undefined);
    return docs.map((doc) => project(doc, projection as Doc | null));
  }

  async function update(collection: string, args: unknown[], many: boolean): Promise<unknown> {
    const op = many ? 'update_many' : 'update_one';
    const filter = compileFilter(objectArg(args[0], 'a filter'));
    const ops = compileUpdate(args[1]);
    const upsert = optionsOf(args[2], op, ['upsert']).upsert ?? false;
    if (typeof upsert !== 'boolean') fail(`upsert must be true or false, got ${kind(upsert)}`);
    const wanted = many ? null : 1;
    const at = now();
    const insertId = upsert ? idOf(filter.equalities.find(([path]) => path.join('.') === '_id')?.[1], 'an upserted document', at) : null;
    const modify = store.modifyDocuments(collection, scanFor(filter, wanted), (found) => {
      const matched = matching(found, filter, wanted, op);
      if (matched.length === 0 && upsert) {
        const base: Doc = {};
        for (const [path, value] of filter.equalities) {
          if (path.join('.') !== '_id') parentOf(base, path, path.join('.'), true)![path.at(-1)!] = structuredClone(value);
        }
        const data = applyUpdate(base, ops, true);
        return { writes: { insert: [{ id: insertId!, data, createdAt: at, updatedAt: at }] }, result: { matched_count: 0, modified_count: 0, upserted_id: insertId } };
      }
      const changed: StoredDocument[] = [];
      for (const stored of matched) {
        const data = applyUpdate(stored.data as Doc, ops, false);
        if (!deepEqual(data, stored.data as Doc)) changed.push({ ...stored, data, updatedAt: at });
      }
      return { writes: { update: changed }, result: { matched_count: matched.length, modified_count: changed.length, upserted_id: null } };
    });
    // The filter's _id is taken by a document the rest of the filter does not match.
    return modify.catch((err: unknown) => {
      throw err instanceof HookyardError && err.code === 'conflict'
        ? new MongoOperationError(`duplicate key: _id "${insertId}" already exists in "${collection}"`, 'duplicate_key')
        : err;
    });
  }

  async function remove(collection: string, filterArg: unknown, many: boolean): Promise<unknown> {
    const filter = compileFilter(objectArg(filterArg, 'a filter'));
    const wanted = many ? null : 1;
    const op = many ? 'delete_many' : 'delete_one';
    return store.modifyDocuments(collection, scanFor(filter, wanted), (found) => {
      const ids = matching(found, filter, wanted, op).map((stored) => stored.id);
      return { writes: { delete: ids } satisfies DocumentWrites, result: { deleted_count: ids.length } };
    });
  }

  async function insert(collection: string, docs: StoredDocument[]): Promise<void> {
    for (const [index, doc] of docs.entries()) {
      try {
        await store.insertDocument(collection, doc);
      } catch (err) {
        if (!(err instanceof HookyardError) || err.code !== 'conflict') throw err;
        const before = docs.length > 1 ? ` (document ${index}; the ${index} before it were inserted)` : '';
        throw new MongoOperationError(`duplicate key: _id "${doc.id}" already exists in "${collection}"${before}`, 'duplicate_key');
      }
    }
  }

  async function run(collection: string, op: MongoOp, args: unknown[]): Promise<unknown> {
    switch (op) {
      case 'insert_one': {
        const doc = newDocument(args[0], 'a document', now());
        await insert(collection, [doc]);
        return { inserted_id: doc.id };
      }
      case 'insert_many': {
        const list = args[0];
        if (!Array.isArray(list) || list.length === 0 || list.length > SCAN_CAP) fail(`insert_many needs a list of 1 to ${SCAN_CAP} documents`);
        const at = now();
        const docs = (list as unknown[]).map((doc, index) => newDocument(doc, `document ${index}`, at));
        await insert(collection, docs);
        return { inserted_ids: docs.map((doc) => doc.id) };
      }
      case 'find_one':
        return (await read(collection, args[0], optionsOf(args[1], op, ['sort', 'skip', 'projection']), op, true))[0] ?? null;
      case 'find':
        return read(collection, args[0], optionsOf(args[1], op, ['sort', 'skip', 'limit', 'projection']), op, false);
      case 'count_documents':
        return (await read(collection, args[0], optionsOf(args[1], op, ['skip', 'limit']), op, false)).length;
      case 'update_one':
      case 'update_many':
        return update(collection, args, op === 'update_many');
      case 'delete_one':
      case 'delete_many':
        return remove(collection, args[0], op === 'delete_many');
    }
  }

  return async (collection, op, args) => {
    if (typeof collection !== 'string' || !COLLECTION_NAME.test(collection)) {
      fail(`invalid collection name ${JSON.stringify(collection) ?? kind(collection)}: use 1-100 letters, digits, '_', '.' or '-'`);
    }
    if (typeof op !== 'string' || !Object.hasOwn(ARITY, op)) fail(`unsupported operation ${JSON.stringify(op) ?? kind(op)} (supported: ${Object.keys(ARITY).join(' ')})`);
    if (!Array.isArray(args)) fail(`the arguments of ${op} must be a list, got ${kind(args)}`);
    if (args.length > ARITY[op as MongoOp]) fail(`${op} takes at most ${ARITY[op as MongoOp]} arguments, got ${args.length}`);
    return run(collection, op as MongoOp, args);
  };
}
