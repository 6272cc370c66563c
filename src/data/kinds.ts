// Column kinds: the comparison semantics shared by both sides of a data diff, derived from the two
// columns' database types so that each dialect renders the same canonical text for equal values.

/** The family of one database column type, as one dialect declares it. */
export type Family = 'int' | 'decimal' | 'float' | 'bool' | 'text' | 'uuid' | 'timestamp' | 'date' | 'binary'

/** How a column pair is compared: a family, and for timestamps the common fractional precision (0..6). */
export interface Kind {
  readonly family: Family
  readonly precision: number
}

export interface ColumnType {
  readonly family: Family
  /** Fractional-second digits for timestamps (0..6); 6 when unknown. */
  readonly precision: number
}

/**
 * Combine the two sides' column types into one kind. Numeric widening (int -> decimal -> float),
 * bool over int (MySQL TINYINT(1)), timestamp over date and text, uuid and binary over text;
 * anything else is compared as text.
 */
export function resolveKind(a: ColumnType, b: ColumnType): Kind {
  const precision = Math.min(a.precision, b.precision, 6)
  const has = (f: Family): boolean => a.family === f || b.family === f
  if (a.family === b.family) return { family: a.family, precision: a.family === 'timestamp' ? precision : 6 }
  const numeric = (f: Family): boolean => f === 'int' || f === 'decimal' || f === 'float' || f === 'bool'
  if (numeric(a.family) && numeric(b.family)) {
    if (has('float')) return { family: 'float', precision: 6 }
    if (has('decimal')) return { family: 'decimal', precision: 6 }
    return { family: 'bool', precision: 6 }
  }
  if (has('timestamp')) return { family: 'timestamp', precision }
  if (has('date') && (a.family === 'text' || b.family === 'text')) return { family: 'date', precision: 6 }
  if (has('date')) return { family: 'timestamp', precision }
  if (has('uuid')) return { family: 'uuid', precision: 6 }
  if (has('binary')) return { family: 'binary', precision: 6 }
  return { family: 'text', precision: 6 }
}

/** A compact spelling of a kind, passed to the SQLite user functions (e.g. `timestamp:3`). */
export function kindSpec(kind: Kind): string {
  return kind.family === 'timestamp' ? `timestamp:${kind.precision}` : kind.family
}

export function parseKindSpec(spec: string): Kind {
  const [family, precision] = spec.split(':')
  return { family: family as Family, precision: precision === undefined ? 6 : Number(precision) }
}

/** Length of the canonical timestamp text at a precision: `YYYY-MM-DD HH:MM:SS[.f...]`. */
export function timestampLength(precision: number): number {
  return precision > 0 ? 20 + precision : 19
}

/** Family of a PostgreSQL type (information_schema udt_name). */
export function postgresFamily(udt: string): Family {
  if (/^int[248]$|^(small|big)?serial$/.test(udt)) return 'int'
  if (udt === 'numeric') return 'decimal'
  if (udt === 'float4' || udt === 'float8') return 'float'
  if (udt === 'bool') return 'bool'
  if (udt === 'uuid') return 'uuid'
  if (udt === 'timestamp' || udt === 'timestamptz') return 'timestamp'
  if (udt === 'date') return 'date'
  if (udt === 'bytea') return 'binary'
  return 'text'
}

/** Family of a MySQL/MariaDB type (information_schema DATA_TYPE and COLUMN_TYPE). */
export function mysqlFamily(dataType: string, columnType: string): Family {
  const t = dataType.toLowerCase()
  if (t === 'tinyint' && /^tinyint\(1\)/i.test(columnType)) return 'bool'
  if (/^(tiny|small|medium|big)?int$|^integer$|^year$/.test(t)) return 'int'
  if (t === 'decimal' || t === 'numeric') return 'decimal'
  if (t === 'float' || t === 'double' || t === 'real') return 'float'
  if (t === 'bit' && /^bit\(1\)/i.test(columnType)) return 'bool'
  if (t === 'uuid') return 'uuid'
  if (t === 'datetime' || t === 'timestamp') return 'timestamp'
  if (t === 'date') return 'date'
  if (/binary|blob$/.test(t)) return 'binary'
  return 'text'
}

/** Family of a SQLite declared type, following SQLite's affinity rules with a few well-known names first. */
export function sqliteFamily(declared: string): Family {
  const t = declared.toUpperCase()
  if (t.includes('UUID')) return 'uuid'
  if (t.includes('BOOL')) return 'bool'
  if (t.includes('TIMESTAMP') || t.includes('DATETIME')) return 'timestamp'
  if (t === 'DATE') return 'date'
  if (t.includes('INT')) return 'int'
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) return 'text'
  if (t.includes('BLOB')) return 'binary'
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return 'float'
  if (t.includes('DEC') || t.includes('NUMERIC')) return 'decimal'
  if (t.includes('TIME')) return 'timestamp'
  return 'text'
}
