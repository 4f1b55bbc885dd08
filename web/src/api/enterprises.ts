// What the enterprise pages share: the register's reference data (loaded once), the colours
// of the four risk grades, the shape of an empty enterprise form, and the identification of a
// major hazard source as the server computes it (for display while typing; the server decides).
import { api, call, type Schemas } from './client'

export type Enterprise = Schemas['Enterprise']
export type EnterpriseWrite = Schemas['EnterpriseWrite']
export type Licence = Schemas['Licence']
export type RiskPoint = Schemas['RiskPoint']
export type Reference = Schemas['EnterpriseReference']
export type RiskColour = Schemas['RiskColour']
export type HazardSource = Schemas['HazardSource']
export type HazardSourceWrite = Schemas['HazardSourceWrite']
export type HazardSubstance = Schemas['HazardSubstance']
export type HazardGrade = Schemas['HazardGrade']

export const COLOURS: RiskColour[] = ['red', 'orange', 'yellow', 'blue']

/** The four colours of risk grading as printed on maps and notice cards. */
export function colourHex(colour: string | null | undefined): string {
  switch (colour) {
    case 'red': return '#e02020'
    case 'orange': return '#f28a1a'
    case 'yellow': return '#e6c300'
    case 'blue': return '#2f6fdc'
    default: return '#909399'
  }
}

let reference: Promise<Reference> | null = null

export function loadReference(): Promise<Reference> {
  if (!reference) {
    reference = call(api.GET('/api/v1/enterprise-reference')).catch((error: unknown) => {
      reference = null
      throw error
    })
  }
  return reference
}

export function emptyEnterprise(unitId = ''): EnterpriseWrite {
  return {
    uscc: '', name: '', former_names: [], legal_representative: '', safety_principal: '',
    safety_phone: '', address: '', lon: null, lat: null, unit_id: unitId, department_id: null,
    section: 'C', sector: 'other', employees: 0, designated_size: false, status: 'operating',
    standard_grade: null, standard_expires: null, marks: [], tags: [],
  }
}

/** The form of an enterprise as read, ready to send back. */
export function toWrite(e: Enterprise): EnterpriseWrite {
  return {
    uscc: e.uscc, name: e.name, former_names: [...e.former_names],
    legal_representative: e.legal_representative, safety_principal: e.safety_principal,
    safety_phone: e.safety_phone, address: e.address, lon: e.lon ?? null, lat: e.lat ?? null,
    unit_id: e.unit.id, department_id: e.department?.id ?? null, section: e.section, sector: e.sector,
    employees: e.employees, designated_size: e.designated_size,
    status: e.status === 'closed' ? 'operating' : e.status, standard_grade: e.standard_grade ?? null,
    standard_expires: e.standard_expires ?? null, marks: [...e.marks], tags: [...e.tags], version: e.version,
  }
}

/** One substance as an identification uses it: q and Q in tonnes, and β. */
export interface Holding { quantity_t: number; critical_t: number; beta: number }

export interface Identification { s: number; r: number; major: boolean; grade: HazardGrade | null }

/** Sums of ratios carry binary noise; the server compares at a millionth, and so does this. */
function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6
}

/** GB 18218-2018 Table 6: grade 1 from R = 100, grade 2 from 50, grade 3 from 10, grade 4 below. */
export function hazardGrade(r: number): HazardGrade {
  return r >= 100 ? 'first' : r >= 50 ? 'second' : r >= 10 ? 'third' : 'fourth'
}

/**
 * S = Σ q/Q (a major hazard source when S ≥ 1) and R = α·Σ β·q/Q, as `core::enterprise::
 * hazard_source::identify` computes them; null while an input is missing or out of range.
 */
export function identifyHazard(alpha: number, holdings: Holding[]): Identification | null {
  if (!(alpha > 0) || holdings.length === 0) return null
  if (holdings.some((h) => !(h.quantity_t >= 0) || !(h.critical_t > 0) || !(h.beta > 0))) return null
  const s = round6(holdings.reduce((sum, h) => sum + h.quantity_t / h.critical_t, 0))
  const r = round6(alpha * holdings.reduce((sum, h) => sum + (h.beta * h.quantity_t) / h.critical_t, 0))
  const major = s >= 1
  return { s, r, major, grade: major ? hazardGrade(r) : null }
}

/** The colour of a hazard source's grade tag (Element Plus tag types). */
export function gradeTagType(grade: HazardGrade | null | undefined): 'danger' | 'warning' | 'primary' | 'info' {
  switch (grade) {
    case 'first': return 'danger'
    case 'second': return 'warning'
    case 'third': return 'primary'
    default: return 'info'
  }
}

/** Operating enterprises whose name or code holds `q`, for a picker (the first 20 in reach). */
export async function searchEnterprises(q: string): Promise<{ id: string; name: string }[]> {
  const page = await call(api.GET('/api/v1/enterprises', { params: { query: { q: q.trim() || undefined, status: 'operating', per_page: 20 } } }))
  return page.items.map((e) => ({ id: e.id, name: e.name }))
}
