// What the inspection pages share: the types, the kinds of check, the shipped checklists
// (loaded once per page visit) and the default rectification period a finding's form offers.
import { api, call, type Schemas } from './client'

export type Inspection = Schemas['Inspection']
export type InspectionWrite = Schemas['InspectionWrite']
export type Finding = Schemas['Finding']
export type Checklist = Schemas['Checklist']
export type ChecklistItem = Schemas['ChecklistItem']
export type InspectionKind = Schemas['InspectionKind']

export const KINDS: InspectionKind[] = ['enforcement', 'self_inspection']

export function loadChecklists(): Promise<Schemas['ChecklistList']> {
  return call(api.GET('/api/v1/checklists'))
}

/** A finding being written on the form. */
export interface DraftFinding {
  item_id: string | null
  place: string
  description: string
  /** Null: as the item says (major when the item is marked major). */
  level: 'general' | 'major' | null
}

export function emptyFinding(): DraftFinding {
  return { item_id: null, place: '', description: '', level: null }
}

/** A date `days` after an ISO date (`YYYY-MM-DD`), as an ISO date. */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() + days)
  return d.toISOString().slice(0, 10)
}

/** The deadline a finding's form offers: a month for a general one, three for a major one
 * (a treatment plan sets the real one). */
export function defaultDeadline(inspectedOn: string, level: 'general' | 'major'): string {
  return addDays(inspectedOn, level === 'major' ? 90 : 30)
}
