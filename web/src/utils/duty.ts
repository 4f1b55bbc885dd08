// Pure helpers of the duty desk: dates and months in Beijing time (the roster's time, whatever
// the browser's zone), placing shifts and gaps on calendar days, and reading the server's
// per-post field errors. China has kept UTC+8 without summer time since 1991, so a fixed offset
// is exact.

const OFFSET = 8 * 3600_000
export const DAY = 86_400_000

type Instant = string | number | Date

function ms(value: Instant): number {
  return typeof value === 'number' ? value : new Date(value).getTime()
}

/** The Beijing date (`YYYY-MM-DD`) of an instant. */
export function bjDate(value: Instant): string {
  return new Date(ms(value) + OFFSET).toISOString().slice(0, 10)
}

/** The Beijing wall-clock time (`HH:MM`) of an instant. */
export function bjTime(value: Instant): string {
  return new Date(ms(value) + OFFSET).toISOString().slice(11, 16)
}

/** The instant (milliseconds) of Beijing midnight starting a date. */
export function bjMidnight(date: string): number {
  return Date.parse(`${date}T00:00:00+08:00`)
}

/** RFC 3339 of Beijing midnight starting a date (what the API's windows take). */
export function bjMidnightIso(date: string): string {
  return new Date(bjMidnight(date)).toISOString()
}

export function addDays(date: string, days: number): string {
  return bjDate(bjMidnight(date) + days * DAY)
}

/** 0 for Monday … 6 for Sunday. */
export function weekday(date: string): number {
  return (new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7
}

/** `YYYY-MM` of a date. */
export function monthOf(date: string): string {
  return date.slice(0, 7)
}

export function addMonths(month: string, months: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number]
  const index = y * 12 + (m - 1) + months
  const year = Math.floor(index / 12)
  return `${String(year).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}`
}

/** The first and last dates of a month, and the instants bounding it in Beijing time. */
export function monthBounds(month: string): { first: string; last: string; from: string; to: string } {
  const first = `${month}-01`
  const next = `${addMonths(month, 1)}-01`
  return { first, last: addDays(next, -1), from: bjMidnightIso(first), to: bjMidnightIso(next) }
}

/** Every date from `first` to `last`, both included. */
export function datesBetween(first: string, last: string): string[] {
  const out: string[] = []
  for (let d = first; d <= last && out.length < 400; d = addDays(d, 1)) out.push(d)
  return out
}

/** The Monday of a date's week. */
export function weekStart(date: string): string {
  return addDays(date, -weekday(date))
}

/** Monday to Sunday of a date's week. */
export function weekDates(date: string): string[] {
  const monday = weekStart(date)
  return Array.from({ length: 7 }, (_, i) => addDays(monday, i))
}

/** A month as whole weeks (Monday first): the dates shown in a month grid, neighbours included. */
export function monthGrid(month: string): string[][] {
  const { first, last } = monthBounds(month)
  const weeks: string[][] = []
  for (let monday = weekStart(first); monday <= last; monday = addDays(monday, 7)) {
    weeks.push(weekDates(monday))
  }
  return weeks
}

export interface Timed {
  starts_at: string
  ends_at: string
}

/** The part of an item falling on a day, as fractions of the day (0 = midnight, 1 = next midnight). */
export interface DaySegment<T> {
  item: T
  start: number
  end: number
  /** The item began before this day. */
  continued: boolean
  /** The item goes on past this day. */
  continues: boolean
}

/** The items (shifts, gaps) overlapping a Beijing day, clipped to it, in order of start. */
export function onDay<T extends Timed>(items: T[], date: string): DaySegment<T>[] {
  const dayStart = bjMidnight(date)
  const dayEnd = dayStart + DAY
  return items
    .map((item) => ({ item, s: ms(item.starts_at), e: ms(item.ends_at) }))
    .filter(({ s, e }) => s < dayEnd && e > dayStart)
    .sort((a, b) => a.s - b.s)
    .map(({ item, s, e }) => ({
      item,
      start: (Math.max(s, dayStart) - dayStart) / DAY,
      end: (Math.min(e, dayEnd) - dayStart) / DAY,
      continued: s < dayStart,
      continues: e > dayEnd,
    }))
}

/** Whether an item covers any moment of the window [from, to). */
export function overlaps(item: Timed, from: Instant, to: Instant): boolean {
  return ms(item.starts_at) < ms(to) && ms(item.ends_at) > ms(from)
}

export type ShiftPhase = 'upcoming' | 'current' | 'ended'

export function phase(item: Timed, now: Instant = Date.now()): ShiftPhase {
  const t = ms(now)
  if (t < ms(item.starts_at)) return 'upcoming'
  if (t < ms(item.ends_at)) return 'current'
  return 'ended'
}

/** Check-in opens 30 minutes before a shift and closes at its end (as the server checks). */
export const CHECK_IN_EARLY_MINUTES = 30

export function checkInOpen(item: Timed, now: Instant = Date.now()): boolean {
  const t = ms(now)
  return t >= ms(item.starts_at) - CHECK_IN_EARLY_MINUTES * 60_000 && t < ms(item.ends_at)
}

/**
 * A compact range in Beijing time: `08:30–08:30 (+1)` style when it stays within two days,
 * with dates when asked.
 */
export function timeRange(item: Timed, withDates = false): string {
  const startDate = bjDate(item.starts_at)
  const endDate = bjDate(item.ends_at)
  const start = bjTime(item.starts_at)
  const end = bjTime(item.ends_at)
  if (withDates) {
    return startDate === endDate
      ? `${startDate} ${start}–${end}`
      : `${startDate} ${start} – ${endDate} ${end}`
  }
  const days = Math.round((bjMidnight(endDate) - bjMidnight(startDate)) / DAY)
  return days === 0 ? `${start}–${end}` : `${start}–${end} (+${days})`
}

/** People of a shift grouped by post, in the server's order. */
export function byPost<P extends { slot_key: string; slot_name: string }>(people: P[]): { key: string; name: string; people: P[] }[] {
  const groups: { key: string; name: string; people: P[] }[] = []
  for (const person of people) {
    let group = groups.find((g) => g.key === person.slot_key)
    if (!group) {
      group = { key: person.slot_key, name: person.slot_name, people: [] }
      groups.push(group)
    }
    group.people.push(person)
  }
  return groups
}

/**
 * The field errors of an array sent to the server (`people.3.user_id: on_leave`), by index and
 * field: `{ 3: { user_id: 'on_leave' } }`.
 */
export function itemErrors(fields: Record<string, string>, array: string): Record<number, Record<string, string>> {
  const out: Record<number, Record<string, string>> = {}
  const prefix = `${array}.`
  for (const [path, code] of Object.entries(fields)) {
    if (!path.startsWith(prefix)) continue
    const [index, ...rest] = path.slice(prefix.length).split('.')
    const n = Number(index)
    if (!Number.isInteger(n)) continue
    out[n] = { ...(out[n] ?? {}), [rest.join('.') || '_']: code }
  }
  return out
}

/** `HH:MM` on a 24-hour clock. */
export function isClock(value: string): boolean {
  return /^([01]\d|2[0-3]):[0-5]\d$/.test(value)
}

/** Minutes a shift of `start`–`end` lasts (equal times: 24 hours), as the server counts. */
export function clockMinutes(start: string, end: string): number {
  const m = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5))
  const d = (m(end) - m(start) + 1440) % 1440
  return d === 0 ? 1440 : d
}

/** Whether the shifts of a day cover every minute exactly once (the server's `not_tiling_day`). */
export function tilesDay(shifts: { start: string; end: string }[]): boolean {
  if (shifts.length === 0 || !shifts.every((s) => isClock(s.start) && isClock(s.end))) return false
  const sorted = [...shifts].sort((a, b) => a.start.localeCompare(b.start))
  if (sorted.length === 1) return sorted[0]!.start === sorted[0]!.end
  const total = sorted.reduce((n, s) => n + clockMinutes(s.start, s.end), 0)
  return total === 1440 && sorted.every((s, i) => s.end === sorted[(i + 1) % sorted.length]!.start)
}
