// What the campaign pages share: the types, the four stages in order, and the stage dates a
// new campaign's form proposes (a fortnight to deploy, most of the period to investigate and
// rectify, then supervision and the summary).
import type { Schemas } from './client'
import { addDays } from './inspections'

export type Campaign = Schemas['Campaign']
export type CampaignWrite = Schemas['CampaignWrite']
export type StageDates = Schemas['StageDates']
export type CampaignStage = Schemas['CampaignStage']
export type ProgressRow = Schemas['ProgressRow']

export const STAGES: CampaignStage[] = ['deploy', 'investigate_rectify', 'supervise_check', 'summarise_accept']

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000)
}

/** Stage dates that split a period at 10 %, 70 % and 90 % of it: to deploy, to investigate
 * and rectify, to supervise, to summarise. A stage starts the day the previous one ends (the
 * server allows that; the later stage holds that day). */
export function proposeStages(startsOn: string, endsOn: string): StageDates[] {
  const days = Math.max(daysBetween(startsOn, endsOn), 0)
  const bounds = [0, Math.floor(days * 0.1), Math.floor(days * 0.7), Math.floor(days * 0.9), days].map((d) => addDays(startsOn, d))
  return STAGES.map((stage, i) => ({ stage, starts_on: bounds[i] ?? startsOn, ends_on: bounds[i + 1] ?? endsOn }))
}

/** The stage a campaign is in on a day (as `core::campaign::stage_on`). */
export function stageOn(stages: StageDates[], day: string): CampaignStage | null {
  for (let i = stages.length - 1; i >= 0; i--) {
    const s = stages[i]
    if (s && s.starts_on <= day && day <= s.ends_on) return s.stage
  }
  return null
}

export function percent(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`
}
