import { describe, expect, it } from 'vitest'
import { stepsFor, toFen, yuan, type Danger } from '@/api/dangers'

function danger(over: Partial<Danger>): Danger {
  return {
    id: 'h1', number: 'YH-990102001-2026-00001', enterprise_id: 'e1', enterprise_name: '临江甲化工', unit_name: '凤城街道',
    level: 'general', category: 'site', origin: 'inspection', place: '罐区', description: '液位计失效', criterion: '',
    found_on: '2026-12-01', deadline: '2026-12-31', responsible_person: '', status: 'rectifying', overdue: false,
    explanation: '', created_by_name: '陈检查', source_number: '', version: 1, created_at: '2026-12-01T00:00:00Z', updated_at: '2026-12-01T00:00:00Z',
    ...over,
  }
}

describe('the steps each side may take', () => {
  it('offers a general one its fix, then the regulator its acceptance', () => {
    expect(stepsFor(danger({}), 'enterprise')).toEqual(['fix'])
    expect(stepsFor(danger({}), 'regulator')).toEqual(['fix'])
    expect(stepsFor(danger({ status: 'awaiting_acceptance' }), 'enterprise')).toEqual([])
    expect(stepsFor(danger({ status: 'awaiting_acceptance' }), 'regulator')).toEqual(['acceptance'])
    expect(stepsFor(danger({}), 'reader')).toEqual([])
  })

  it('walks a major one through plan, review, progress and listing, and nothing once closed', () => {
    const major = (status: Danger['status'], more: Partial<Danger> = {}) => danger({ level: 'major', status, ...more })
    expect(stepsFor(major('awaiting_plan'), 'enterprise')).toEqual(['plan'])
    expect(stepsFor(major('plan_submitted'), 'enterprise')).toEqual([])
    expect(stepsFor(major('plan_submitted'), 'regulator')).toEqual(['review', 'list'])
    expect(stepsFor(major('rectifying', { listed_level: 'city' }), 'regulator')).toEqual(['progress', 'fix', 'unlist'])
    expect(stepsFor(major('rectifying', { overdue: true }), 'enterprise')).toEqual(['progress', 'fix', 'explanation'])
    expect(stepsFor(major('closed', { listed_level: 'city' }), 'regulator')).toEqual([])
  })
})

describe('funds', () => {
  it('keeps yuan as fen and shows fen as yuan', () => {
    expect(toFen(86000)).toBe(8_600_000)
    expect(toFen(0.015)).toBe(2)
    expect(toFen(0)).toBeNull()
    expect(toFen(-5)).toBeNull()
    expect(toFen(null)).toBeNull()
    expect(yuan(8_600_000)).toBe('86,000.00')
  })
})
