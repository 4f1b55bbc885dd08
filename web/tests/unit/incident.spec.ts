import { describe, expect, it } from 'vitest'
import { countdown, documentDate, gradeColor, nextReportKinds, type Obligation } from '@/utils/incident'

const due = '2026-03-02T03:20:00Z'
const at = (s: string) => Date.parse(s)
const hop = (o: Partial<Obligation>): Obligation => ({ hop: 'county_to_city', due_at: due, done_at: null, status: 'pending', ...o })

describe('hop countdown', () => {
  it('runs, turns urgent in the last half hour and overdue exactly at due', () => {
    expect(countdown(hop({}), at('2026-03-02T01:20:00Z'))).toMatchObject({ minutes: 120, hours: 2, rest: 0, state: 'running' })
    expect(countdown(hop({}), at('2026-03-02T02:50:00Z')).state).toBe('soon')
    expect(countdown(hop({}), at('2026-03-02T03:19:30Z'))).toMatchObject({ minutes: 0, state: 'soon' })
    expect(countdown(hop({}), at(due)).state).toBe('overdue')
    expect(countdown(hop({}), at('2026-03-02T04:35:00Z'))).toMatchObject({ minutes: -75, hours: 1, rest: 15, state: 'overdue' })
  })

  it('is done on time, late after due, or waiting for the previous hop', () => {
    expect(countdown(hop({ done_at: due }), at('2026-03-02T05:00:00Z')).state).toBe('done')
    expect(countdown(hop({ done_at: '2026-03-02T03:21:00Z' }), 0).state).toBe('late')
    expect(countdown(hop({ due_at: null }), 0).state).toBe('waiting')
  })
})

describe('grade colours', () => {
  it('follow red, orange, yellow, blue from the highest grade', () => {
    expect(['particularly_serious', 'serious', 'relatively_serious', 'ordinary'].map((g) => gradeColor(g as never)))
      .toEqual(['#d40000', '#ff7d00', '#e6b800', '#1e6fd9'])
  })
})

describe('reports', () => {
  it('follow the order initial, follow-ups, final, one in the works at a time', () => {
    expect(nextReportKinds([])).toEqual(['initial'])
    expect(nextReportKinds([{ kind: 'initial', status: 'draft' }])).toEqual([])
    expect(nextReportKinds([{ kind: 'initial', status: 'approved' }])).toEqual(['follow_up', 'final'])
    expect(nextReportKinds([{ kind: 'initial', status: 'approved' }, { kind: 'final', status: 'approved' }])).toEqual([])
  })

  it('are dated in Beijing time', () => {
    expect(documentDate('2026-12-31T16:30:00Z')).toEqual({ y: 2027, m: 1, d: 1 })
  })
})
