/**
 * Turning the all-string plain objects read from XML into typed values, by a class schema.
 * Only properties the schema names are typed; the rest stay as the device sent them. A value the
 * schema calls a number but that is not one is kept as text rather than thrown away: firmware
 * quirks must not make a whole answer unreadable.
 */
import { EndpointReference, isEndpointReference, PlainObject, PlainValue } from './xml';

export type ScalarType = 'string' | 'int' | 'bool' | 'datetime' | 'ref';
export type PropType = ScalarType | `${ScalarType}[]`;
export type ClassSchema = Readonly<Record<string, PropType>>;

export type TypedValue = string | number | boolean | null | EndpointReference | TypedObject | TypedValue[];
export interface TypedObject {
  [key: string]: TypedValue;
}

function typeScalar(v: PlainValue, t: ScalarType): TypedValue {
  if (v === null) return null;
  if (typeof v !== 'string') return v as TypedValue;
  switch (t) {
    case 'int': {
      const s = v.trim();
      if (/^[-+]?\d+$/.test(s)) return Number(s);
      return v;
    }
    case 'bool': {
      const s = v.trim().toLowerCase();
      if (s === 'true' || s === '1') return true;
      if (s === 'false' || s === '0') return false;
      return v;
    }
    default:
      return v;
  }
}

/** Typed by the schema; a list property the object lacks comes out empty (with `only`, among those names). */
export function applySchema(obj: PlainObject, schema?: ClassSchema, only?: readonly string[]): TypedObject {
  const out = Object.create(null) as TypedObject;
  for (const k of Object.keys(obj)) {
    const v = obj[k];
    // Own keys only: a property named "constructor" must not find Object's member in the schema.
    const t = schema && Object.hasOwn(schema, k) ? schema[k] : undefined;
    if (!t) {
      out[k] = v as TypedValue;
    } else if (t.endsWith('[]')) {
      const scalar = t.slice(0, -2) as ScalarType;
      const list = Array.isArray(v) ? v : v === '' || v === null ? [] : [v];
      out[k] = list.map((x) => typeScalar(x, scalar));
    } else {
      out[k] = typeScalar(Array.isArray(v) ? v[0] : v, t as ScalarType);
    }
  }
  if (schema) {
    for (const k in schema) {
      if (Object.hasOwn(schema, k) && schema[k].endsWith('[]') && !(k in out) && (!only || only.includes(k))) out[k] = [];
    }
  }
  return out;
}

export function asRef(v: TypedValue | undefined): EndpointReference | undefined {
  return isEndpointReference(v) ? v : undefined;
}
