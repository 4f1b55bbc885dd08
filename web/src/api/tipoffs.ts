// What the tip-off pages share: the types, the states in order, their tag colours, and which
// steps the caller may take on a tip-off now (the server decides; this only offers the buttons
// that can succeed).
import type { Schemas } from './client'

export type Tipoff = Schemas['Tipoff']
export type TipoffDetail = Schemas['TipoffDetail']
export type TipoffStatus = Schemas['TipoffStatus']
export type RewardStatus = Schemas['RewardStatus']
export type TipoffSettings = Schemas['TipoffSettings']
export type PublicTipoff = Schemas['PublicTipoff']

export const STATUSES: TipoffStatus[] = ['received', 'founded', 'unfounded']
export const REWARD_STATUSES: RewardStatus[] = ['proposed', 'approved', 'rejected', 'paid']

export function statusTagType(status: TipoffStatus): 'warning' | 'danger' | 'info' {
  switch (status) {
    case 'received': return 'warning'
    case 'founded': return 'danger'
    case 'unfounded': return 'info'
  }
}

export interface Abilities {
  handle: boolean
  approve: boolean
  /** The caller's own id: a leader does not approve their own proposal. */
  proposedByMe: boolean
}

/** The steps the caller may take now, as `core::tipoff::check_action` allows. */
export function stepsFor(t: Tipoff, can: Abilities): string[] {
  if (!can.handle) return []
  const steps: string[] = []
  if (t.status === 'received') steps.push('conclude', 'transfer')
  if (t.status !== 'received' && !t.replied_at) steps.push('reply')
  const reward = t.reward?.status
  if (t.status === 'founded' && (!reward || reward === 'rejected')) steps.push('propose')
  if (reward === 'proposed' && can.approve && !can.proposedByMe) steps.push('review')
  if (reward === 'approved') steps.push('pay')
  return steps
}

/** A query code as typed: upper case, grouped by four (what the server reads, forgivingly). */
export function tidyCode(text: string): string {
  const plain = text.toUpperCase().replace(/[^0-9A-Z]/g, '').slice(0, 16)
  return plain.replace(/(.{4})(?=.)/g, '$1-')
}
