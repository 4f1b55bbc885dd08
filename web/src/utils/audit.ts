// An audit record's detail as a person reads it: the fields a change touched with their
// values before and after, and the context (a reason, a count) as labelled values. Field names
// are translated; values are shown as they were stored, never as JSON.
import { i18n, tOr } from '@/i18n'

export interface ChangeRow {
  field: string
  label: string
  before: string
  after: string
}

export interface DetailView {
  changes: ChangeRow[]
  context: { field: string; label: string; value: string }[]
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

export function fieldLabel(field: string): string {
  return tOr(`fields.${field}`, tOr(`auditFields.${field}`, field))
}

/** Fields whose values are codes, and where their names are. */
const CODES: Record<string, string> = { roles: 'roles', level: 'levels', grade: 'incident.grades', kind: 'incident.kinds' }

/** Ids the server named for this record (a unit, a person), shown by name. */
export type Names = Record<string, string>

export function formatValue(value: Json | undefined, names: Names = {}, field = ''): string {
  const t = i18n.global.t
  const codes = CODES[field]
  if (codes && typeof value === 'string') return tOr(`${codes}.${value}`, value)
  if (value === null || value === undefined || value === '') return '—'
  if (typeof value === 'boolean') return value ? t('common.yes') : t('common.no')
  if (typeof value === 'number') return String(value)
  if (typeof value === 'string') return names[value] ?? value
  if (Array.isArray(value)) return value.length ? value.map((v) => formatValue(v, names, field)).join(t('common.listSep')) : '—'
  return Object.entries(value)
    .map(([k, v]) => `${fieldLabel(k)}: ${formatValue(v, names, k)}`)
    .join(t('common.listSep'))
}

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function detailView(detail: unknown, names: Names = {}): DetailView {
  const view: DetailView = { changes: [], context: [] }
  if (!isObject(detail)) return view
  const before = isObject(detail.before) ? detail.before : undefined
  const after = isObject(detail.after) ? detail.after : undefined
  if (before || after) {
    const fields = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])]
    for (const field of fields) {
      const b = formatValue(before?.[field], names, field)
      const a = formatValue(after?.[field], names, field)
      // A whole record shown at creation or removal has one side only; a change shows only
      // what differs.
      if (before && after && b === a && JSON.stringify(before[field]) === JSON.stringify(after[field])) continue
      view.changes.push({ field, label: fieldLabel(field), before: before ? b : '—', after: after ? a : '—' })
    }
  }
  for (const [field, value] of Object.entries(detail)) {
    if ((field === 'before' && before) || (field === 'after' && after)) continue
    view.context.push({ field, label: fieldLabel(field), value: formatValue(value, names, field) })
  }
  return view
}
