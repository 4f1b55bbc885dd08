// What the incident pages compute for display: the colour of a grade (the four-colour
// convention: red, orange, yellow, blue from the highest grade down), a hop's countdown, and
// which hop the desk is waiting on.
import type { Schemas } from '@/api/client'

export type Incident = Schemas['Incident']
export type Obligation = Schemas['Obligation']
export type Grade = Schemas['Grade']
export type Hop = Schemas['Hop']

export const GRADES: Grade[] = ['particularly_serious', 'serious', 'relatively_serious', 'ordinary']
export const HOPS: Hop[] = ['unit_to_county', 'county_to_city', 'city_to_province', 'province_to_national']

/** The colour a grade is drawn in: particularly serious red, serious orange, relatively serious yellow, ordinary blue. */
export function gradeColor(grade: Grade): string {
  switch (grade) {
    case 'particularly_serious':
      return '#d40000'
    case 'serious':
      return '#ff7d00'
    case 'relatively_serious':
      return '#e6b800'
    default:
      return '#1e6fd9'
  }
}

export interface Countdown {
  /** Minutes left (negative when overdue), whole minutes towards zero. */
  minutes: number
  /** `h:mm` or `m min` style pieces the caller words: hours and minutes, absolute. */
  hours: number
  rest: number
  state: 'done' | 'late' | 'running' | 'soon' | 'overdue' | 'waiting'
}

/** A hop's clock at `now` (ms): `soon` in the last 30 minutes, `overdue` from the due moment. */
export function countdown(o: Obligation, now: number): Countdown {
  if (o.done_at) {
    const late = o.due_at ? Date.parse(o.done_at) > Date.parse(o.due_at) : false
    return { minutes: 0, hours: 0, rest: 0, state: late ? 'late' : 'done' }
  }
  if (!o.due_at) return { minutes: 0, hours: 0, rest: 0, state: 'waiting' }
  const ms = Date.parse(o.due_at) - now
  const minutes = ms >= 0 ? Math.floor(ms / 60000) : -Math.ceil(-ms / 60000)
  const abs = Math.abs(minutes)
  const state = ms <= 0 ? 'overdue' : ms <= 30 * 60000 ? 'soon' : 'running'
  return { minutes, hours: Math.floor(abs / 60), rest: abs % 60, state }
}

/** The first hop not done that has a clock running, if any. */
export function runningHop(incident: Incident): Obligation | undefined {
  return incident.obligations.find((o) => !o.done_at && o.due_at)
}

/** Whether the caller's unit is the addressee of a hop not yet done (it must acknowledge). */
export function awaitingFrom(incident: Incident, unitId: string | undefined): Hop | undefined {
  if (!unitId) return undefined
  return incident.hops.find((h) => !h.done_at && h.addressee?.id === unitId)?.hop
}

/** A hop outside this deployment whose clock runs (the desk records how it was sent). */
export function recordableHop(incident: Incident): Hop | undefined {
  const running = runningHop(incident)
  if (!running) return undefined
  const record = incident.hops.find((h) => h.hop === running.hop)
  return record && !record.addressee ? running.hop : undefined
}

/** Element Plus tag type of a hop's status. */
export function statusTag(state: Countdown['state']): 'success' | 'warning' | 'danger' | 'info' | 'primary' {
  switch (state) {
    case 'done':
      return 'success'
    case 'late':
      return 'warning'
    case 'overdue':
      return 'danger'
    case 'soon':
      return 'warning'
    case 'running':
      return 'primary'
    default:
      return 'info'
  }
}

/** A short two-tone alert from the browser itself (no sound file, nothing downloaded). */
export function beep(urgent = false): void {
  const Ctx = window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext
  if (!Ctx) return
  try {
    const ctx = new Ctx()
    const tones = urgent ? [880, 660, 880, 660] : [660, 880]
    tones.forEach((freq, i) => {
      const osc = ctx.createOscillator()
      const gain = ctx.createGain()
      osc.frequency.value = freq
      osc.type = 'sine'
      gain.gain.setValueAtTime(0.0001, ctx.currentTime + i * 0.22)
      gain.gain.exponentialRampToValueAtTime(0.3, ctx.currentTime + i * 0.22 + 0.02)
      gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + i * 0.22 + 0.2)
      osc.connect(gain).connect(ctx.destination)
      osc.start(ctx.currentTime + i * 0.22)
      osc.stop(ctx.currentTime + i * 0.22 + 0.21)
    })
    setTimeout(() => void ctx.close(), tones.length * 250 + 200)
  } catch {
    // A browser that refuses audio before a click still shows the visible alert.
  }
}

export type Report = Schemas['Report']
export type ReportKind = Schemas['ReportKind']

/** The six contents of a report (Art. 12), in their order. */
export const REPORT_SECTIONS = ['unit', 'time_place', 'what_happened', 'casualties', 'measures', 'other'] as const

/**
 * The reports a unit's desk may draft next, given its own reports: nothing while one is not yet
 * approved; the initial report first; then follow-ups and the final one; nothing after the final.
 * The server enforces the same rules (`report_pending`, `initial_missing`, `final_sent`).
 */
export function nextReportKinds(own: Pick<Report, 'kind' | 'status'>[]): ReportKind[] {
  if (own.some((r) => r.status !== 'approved')) return []
  if (own.some((r) => r.kind === 'final')) return []
  if (!own.some((r) => r.kind === 'initial')) return ['initial']
  return ['follow_up', 'final']
}

/** A date as the signature block of an official document writes it, in Beijing time. */
export function documentDate(value: string): { y: number; m: number; d: number } {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: 'numeric', day: 'numeric' })
    .formatToParts(new Date(value))
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0)
  return { y: part('year'), m: part('month'), d: part('day') }
}
