import { beforeEach, describe, expect, it } from 'vitest'
import { setLocale } from '@/i18n'
import {
  addDays, addMonths, bjDate, bjMidnightIso, bjTime, byPost, checkInOpen, itemErrors, monthBounds, monthGrid, onDay,
  phase, tilesDay, timeRange, weekDates, weekday,
} from '@/utils/duty'
import { eventText, notificationText } from '@/utils/notify'

describe('Beijing dates', () => {
  it('reads instants in Beijing time whatever the browser zone', () => {
    // 16:30 UTC is half past midnight the next day in Beijing.
    expect(bjDate('2026-03-01T16:30:00Z')).toBe('2026-03-02')
    expect(bjTime('2026-03-01T16:30:00Z')).toBe('00:30')
    expect(bjDate('2026-03-01T15:59:59Z')).toBe('2026-03-01')
    expect(bjMidnightIso('2026-03-02')).toBe('2026-03-01T16:00:00.000Z')
  })

  it('counts days, weekdays and months', () => {
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29')
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01')
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28')
    expect(weekday('2026-06-01')).toBe(0) // a Monday
    expect(weekday('2026-06-07')).toBe(6)
    expect(addMonths('2026-11', 3)).toBe('2027-02')
    expect(addMonths('2026-01', -1)).toBe('2025-12')
    expect(addMonths('2026-05', -17)).toBe('2024-12')
  })

  it('bounds a month by Beijing midnights', () => {
    expect(monthBounds('2026-02')).toEqual({
      first: '2026-02-01', last: '2026-02-28',
      from: '2026-01-31T16:00:00.000Z', to: '2026-02-28T16:00:00.000Z',
    })
    expect(monthBounds('2024-12').last).toBe('2024-12-31')
  })

  it('lays a month out in whole weeks from Monday', () => {
    const grid = monthGrid('2026-06') // June 2026 starts on a Monday
    expect(grid[0]?.[0]).toBe('2026-06-01')
    expect(grid.every((w) => w.length === 7)).toBe(true)
    expect(grid.flat()).toContain('2026-06-30')
    const march = monthGrid('2026-03') // starts on a Sunday
    expect(march[0]?.[0]).toBe('2026-02-23')
    expect(march[0]?.[6]).toBe('2026-03-01')
    expect(march[march.length - 1]?.[6]).toBe('2026-04-05')
    expect(weekDates('2026-06-10')).toEqual(['2026-06-08', '2026-06-09', '2026-06-10', '2026-06-11', '2026-06-12', '2026-06-13', '2026-06-14'])
  })
})

describe('placing shifts and gaps on days', () => {
  // 08:30 Beijing on 1 June to 08:30 on 2 June.
  const shift = { id: 's', starts_at: '2026-06-01T00:30:00Z', ends_at: '2026-06-02T00:30:00Z' }

  it('clips a 24-hour shift to the two days it touches', () => {
    const first = onDay([shift], '2026-06-01')
    expect(first).toHaveLength(1)
    expect(first[0]?.start).toBeCloseTo(8.5 / 24)
    expect(first[0]?.end).toBe(1)
    expect(first[0]?.continued).toBe(false)
    expect(first[0]?.continues).toBe(true)
    const second = onDay([shift], '2026-06-02')
    expect(second[0]?.start).toBe(0)
    expect(second[0]?.end).toBeCloseTo(8.5 / 24)
    expect(second[0]?.continued).toBe(true)
    expect(onDay([shift], '2026-06-03')).toEqual([])
    // Ending exactly at midnight does not touch the next day.
    expect(onDay([{ starts_at: '2026-06-01T10:00:00Z', ends_at: '2026-06-01T16:00:00Z' }], '2026-06-02')).toEqual([])
  })

  it('places a one-minute gap at midnight to the minute', () => {
    const gap = { kind: 'uncovered', starts_at: '2026-06-01T15:59:00Z', ends_at: '2026-06-01T16:00:00Z' }
    const on = onDay([gap], '2026-06-01')
    expect(on).toHaveLength(1)
    expect(on[0]?.start).toBeCloseTo(1 - 1 / 1440)
    expect(on[0]?.end).toBe(1)
    expect(onDay([gap], '2026-06-02')).toEqual([])
  })

  it('orders what falls on a day by start', () => {
    const late = { starts_at: '2026-06-01T10:00:00Z', ends_at: '2026-06-01T11:00:00Z' }
    const early = { starts_at: '2026-06-01T01:00:00Z', ends_at: '2026-06-01T02:00:00Z' }
    expect(onDay([late, early], '2026-06-01').map((s) => s.item)).toEqual([early, late])
  })

  it('tells the phase of a shift and when check-in is open', () => {
    expect(phase(shift, '2026-06-01T00:00:00Z')).toBe('upcoming')
    expect(phase(shift, '2026-06-01T00:30:00Z')).toBe('current')
    expect(phase(shift, '2026-06-02T00:30:00Z')).toBe('ended')
    expect(checkInOpen(shift, '2026-05-31T23:59:00Z')).toBe(false)
    expect(checkInOpen(shift, '2026-06-01T00:00:00Z')).toBe(true)
    expect(checkInOpen(shift, '2026-06-02T00:29:59Z')).toBe(true)
    expect(checkInOpen(shift, '2026-06-02T00:30:00Z')).toBe(false)
  })

  it('writes a shift’s hours compactly', () => {
    expect(timeRange(shift)).toBe('08:30–08:30 (+1)')
    expect(timeRange({ starts_at: '2026-06-01T00:00:00Z', ends_at: '2026-06-01T10:00:00Z' })).toBe('08:00–18:00')
    expect(timeRange(shift, true)).toBe('2026-06-01 08:30 – 2026-06-02 08:30')
  })
})

describe('rosters', () => {
  it('group people by post in order', () => {
    const people = [
      { slot_key: 'leader', slot_name: 'L', name: 'a' },
      { slot_key: 'officer', slot_name: 'O', name: 'b' },
      { slot_key: 'officer', slot_name: 'O', name: 'c' },
    ]
    expect(byPost(people).map((g) => [g.key, g.people.map((p) => p.name)])).toEqual([['leader', ['a']], ['officer', ['b', 'c']]])
  })

  it('read per-post field errors', () => {
    expect(itemErrors({ 'people.2.user_id': 'on_leave', 'people.0.slot_key': 'unknown_slot', people: 'too_many', 'shifts.0.key': 'x' }, 'people'))
      .toEqual({ 2: { user_id: 'on_leave' }, 0: { slot_key: 'unknown_slot' } })
  })

  it('check that shifts tile the day as the server does', () => {
    expect(tilesDay([{ start: '08:30', end: '08:30' }])).toBe(true)
    expect(tilesDay([{ start: '08:00', end: '20:00' }, { start: '20:00', end: '08:00' }])).toBe(true)
    expect(tilesDay([{ start: '08:00', end: '20:00' }, { start: '20:00', end: '07:59' }])).toBe(false)
    expect(tilesDay([{ start: '08:00', end: '20:00' }])).toBe(false)
    expect(tilesDay([{ start: '8:00', end: '8:00' }])).toBe(false)
    expect(tilesDay([])).toBe(false)
  })
})

describe('notifications', () => {
  beforeEach(() => setLocale('zh-CN'))

  it('are worded from their kind and data, in Beijing time', () => {
    const swap = { kind: 'duty.swap_requested', data: { unit_name: 'U', requester_name: 'R', starts_at: '2026-06-01T00:30:00Z', cover: true } }
    expect(notificationText(swap)).toContain('R')
    expect(notificationText(swap)).toContain('2026/06/01 08:30')
    setLocale('en')
    expect(notificationText(swap)).toBe('R asks you to cover the shift of 01/06/2026, 08:30 at U')
    expect(notificationText({ kind: 'duty.swap_decided', data: { status: 'approved', requester_name: 'A', target_name: 'B', unit_name: 'U', starts_at: '2026-06-01T00:30:00Z' } }))
      .toContain('Swap approved: A → B')
    expect(notificationText({ kind: 'something.new', data: {} })).toBe('Notification: something.new')
  })

  it('word every duty kind the server sends', () => {
    setLocale('en')
    for (const kind of [
      'duty.roster_published', 'duty.shift_reminder', 'duty.check_in_missed', 'duty.swap_requested', 'duty.swap_awaiting_approval',
      'duty.swap_decided', 'duty.assignment_changed', 'duty.handover_written',
    ]) {
      expect(notificationText({ kind, data: { unit_name: 'U', starts_at: '2026-06-01T00:30:00Z' } }), kind).not.toContain('Notification:')
    }
  })

  it('show a live notification event as the notification', () => {
    setLocale('en')
    expect(eventText({ kind: 'notification', data: { kind: 'duty.handover_written', data: { unit_name: 'U', starts_at: '2026-06-01T00:30:00Z' } } }))
      .toBe('Handover to acknowledge: U; your shift starts 01/06/2026, 08:30')
    expect(eventText({ kind: 'duty.roster_changed', data: {} })).toBe('A duty roster changed')
  })
})
