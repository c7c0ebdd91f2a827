import { newId } from '../../ids.js';
import type { DocumentFilter, Store, StoredDocument } from '../../store/store.js';

export type DocumentStore = Pick<Store, 'insertDocument' | 'findDocuments' | 'updateDocuments' | 'deleteDocuments'>;

export type Document = Record<string, unknown> & { _id: string };

export interface FindOptions {
  /** Default 1000; larger values are capped at 10000. */
  limit?: number;
}

/** A collection of the handlers' document store: JSON objects keyed by `_id`, filtered by (dotted) field equality. */
export interface Collection {
  insert<T extends Record<string, unknown>>(doc: T): Promise<T & { _id: string }>;
  find(filter?: DocumentFilter, options?: FindOptions): Promise<Document[]>;
  findOne(filter?: DocumentFilter): Promise<Document | null>;
  /** Shallow-merges `patch` into every matching document; returns how many matched. */
  update(filter: DocumentFilter, patch: Record<string, unknown>): Promise<number>;
  delete(filter: DocumentFilter): Promise<number>;
}

export interface DocumentDb {
  collection(name: string): Collection;
}

export const COLLECTION_NAME = /^[A-Za-z0-9_.-]{1,100}$/;
const DEFAULT_LIMIT = 1000;
const MAX_LIMIT = 10_000;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

export function kindOfValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? `a ${value.constructor?.name ?? 'non-plain'} object` : `a ${typeof value}`;
}

/** The object as JSON would store it, so what insert returns is what find later gives back (dates as strings…). */
function jsonObject(value: unknown, what: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw new Error(`${what} must be a plain JSON object, got ${kindOfValue(value)}`);
  try {
    return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${what} is not JSON-serialisable: ${(err as Error).message}`);
  }
}

export const newDocumentId = (now: number): string => newId('doc', now);

/** An undefined value would vanish from the JSON and widen the filter: `delete({_id: undefined})` must not delete all. */
function filterOf(filter: unknown): DocumentFilter {
  if (filter === undefined) return {};
  if (isPlainObject(filter)) {
    const field = Object.keys(filter).find((key) => filter[key] === undefined);
    if (field !== undefined) throw new Error(`filter field "${field}" is undefined`);
  }
  return jsonObject(filter, 'a filter');
}

function toDocument(stored: StoredDocument): Document {
  return { _id: stored.id, ...stored.data };
}

export function createDocumentDb(store: DocumentStore, now: () => number): DocumentDb {
  return {
    collection(name: string): Collection {
      if (typeof name !== 'string' || !COLLECTION_NAME.test(name)) {
        throw new Error(`invalid collection name ${JSON.stringify(name)}: use 1-100 letters, digits, '_', '.' or '-'`);
      }
      const find = async (filter?: DocumentFilter, options: FindOptions = {}): Promise<Document[]> => {
        const limit = options.limit ?? DEFAULT_LIMIT;
        if (!Number.isInteger(limit) || limit < 1) throw new Error(`limit must be a positive integer, got ${String(limit)}`);
        const found = await store.findDocuments(name, filterOf(filter), Math.min(limit, MAX_LIMIT));
        return found.map(toDocument);
      };
      return {
        async insert<T extends Record<string, unknown>>(doc: T): Promise<T & { _id: string }> {
          const { _id, ...data } = jsonObject(doc, 'a document');
          if (_id !== undefined && (typeof _id !== 'string' || _id === '')) {
            throw new Error(`a document's _id must be a non-empty string, got ${kindOfValue(_id)}`);
          }
          const at = now();
          const id = _id ?? newDocumentId(at);
          await store.insertDocument(name, { id, data, createdAt: at, updatedAt: at });
          return { _id: id, ...data } as T & { _id: string };
        },
        find,
        async findOne(filter?: DocumentFilter): Promise<Document | null> {
          return (await find(filter, { limit: 1 }))[0] ?? null;
        },
        async update(filter: DocumentFilter, patch: Record<string, unknown>): Promise<number> {
          // The id is the key, not a field: a patch cannot rename a document.
          const { _id: _ignored, ...fields } = jsonObject(patch, 'a patch');
          return store.updateDocuments(name, filterOf(filter), fields, now());
        },
        async delete(filter: DocumentFilter): Promise<number> {
          return store.deleteDocuments(name, filterOf(filter));
        },
      };
    },
  };
}
