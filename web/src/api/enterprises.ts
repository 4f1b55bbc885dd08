// What the enterprise pages share: the register's reference data (loaded once), the colours
// of the four risk grades, and the shape of an empty enterprise form.
import { api, call, type Schemas } from './client'

export type Enterprise = Schemas['Enterprise']
export type EnterpriseWrite = Schemas['EnterpriseWrite']
export type Licence = Schemas['Licence']
export type RiskPoint = Schemas['RiskPoint']
export type Reference = Schemas['EnterpriseReference']
export type RiskColour = Schemas['RiskColour']

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
