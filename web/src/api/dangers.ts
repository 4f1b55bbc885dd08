// What the hidden-danger pages share: the types of the ledger, the order of its states, the
// colours of their tags and which steps a side may take in each state (the server decides; this
// only offers the buttons that can succeed).
import { api, call, type Schemas } from './client'

export type Danger = Schemas['Danger']
export type DangerWrite = Schemas['DangerWrite']
export type DangerStatus = Schemas['DangerStatus']
export type DangerLevel = Schemas['DangerLevel']
export type TreatmentPlan = Schemas['TreatmentPlan']

export const LEVELS: DangerLevel[] = ['general', 'major']
export const CATEGORIES: Schemas['DangerCategory'][] = ['site', 'management']
export const ORIGINS: Schemas['DangerOrigin'][] = ['inspection', 'self_inspection', 'campaign', 'tipoff', 'incident_investigation']
export const STATUSES: DangerStatus[] = ['awaiting_plan', 'plan_submitted', 'rectifying', 'awaiting_acceptance', 'closed']

/** Element Plus tag types of a state. */
export function statusTagType(status: DangerStatus): 'danger' | 'warning' | 'primary' | 'success' | 'info' {
  switch (status) {
    case 'awaiting_plan': return 'danger'
    case 'plan_submitted': return 'warning'
    case 'rectifying': return 'primary'
    case 'awaiting_acceptance': return 'warning'
    case 'closed': return 'success'
  }
}

/** Fen as yuan with two decimals and thousands separators (¥ 8,000.00). */
export function yuan(fen: number): string {
  return (fen / 100).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
}

/** Yuan typed in a form as fen (rounded to the fen); null when not a positive amount. */
export function toFen(yuanAmount: number | null | undefined): number | null {
  if (yuanAmount === null || yuanAmount === undefined || !Number.isFinite(yuanAmount) || yuanAmount <= 0) return null
  return Math.round(yuanAmount * 100)
}

export type Side = 'enterprise' | 'regulator' | 'reader'

/** The steps a side may take on a hidden danger now, as `core::danger::transition` allows. */
export function stepsFor(d: Danger, side: Side): string[] {
  if (d.status === 'closed' || side === 'reader') return []
  const steps: string[] = []
  const major = d.level === 'major'
  const regulator = side === 'regulator'
  if (d.status === 'awaiting_plan') steps.push('plan')
  if (d.status === 'plan_submitted' && regulator) steps.push('review')
  if (d.status === 'rectifying') {
    if (major) steps.push('progress')
    steps.push('fix')
  }
  if (d.status === 'awaiting_acceptance' && regulator) steps.push('acceptance')
  if (d.overdue) steps.push('explanation')
  if (major && regulator) steps.push(d.listed_level ? 'unlist' : 'list')
  return steps
}

export function loadDanger(id: string): Promise<Danger> {
  return call(api.GET('/api/v1/hazards/{id}', { params: { path: { id } } }))
}
