// The identification shown while a hazard source is typed agrees with the server's
// (core::enterprise::hazard_source): S at the threshold, R at each grade boundary, and nothing
// shown while an input is missing. Errors on a substance of the list name its position.
import { describe, expect, it } from 'vitest'
import { hazardGrade, identifyHazard } from '@/api/enterprises'
import { setLocale } from '@/i18n'
import { fieldLabel } from '@/utils/errors'

const h = (q: number, big: number, beta: number) => ({ quantity_t: q, critical_t: big, beta })

describe('hazard source identification', () => {
  it('is major from S = 1, also when thirds add up to one', () => {
    expect(identifyHazard(1, [h(2.5, 5, 1), h(5, 10, 1)])).toEqual({ s: 1, r: 1, major: true, grade: 'fourth' })
    expect(identifyHazard(1, [h(4.99, 5, 1)])?.major).toBe(false)
    expect(identifyHazard(1, [h(4.99, 5, 1)])?.grade).toBeNull()
    expect(identifyHazard(1, [h(1, 3, 1), h(1, 3, 1), h(1, 3, 1)])?.major).toBe(true)
  })

  it('grades by R = α·Σβ·q/Q at the standard’s boundaries', () => {
    // 40 t chlorine (Q 5, β 4) and 30 t ammonia (Q 10, β 2), α 1.5: S 11, R 57.
    expect(identifyHazard(1.5, [h(40, 5, 4), h(30, 10, 2)])).toEqual({ s: 11, r: 57, major: true, grade: 'second' })
    expect([100, 99.999, 50, 49.99, 10, 9.99].map(hazardGrade)).toEqual(['first', 'second', 'second', 'third', 'third', 'fourth'])
  })

  it('shows nothing while an input is missing or out of range', () => {
    expect(identifyHazard(0, [h(1, 1, 1)])).toBeNull()
    expect(identifyHazard(1, [])).toBeNull()
    expect(identifyHazard(1, [h(1, NaN, 1)])).toBeNull()
    expect(identifyHazard(1, [h(-1, 1, 1)])).toBeNull()
  })
})

describe('field names', () => {
  it('count positions in a list from one', () => {
    setLocale('zh-CN')
    expect(fieldLabel('substances[1].substance_id')).toBe('危险化学品 #2 物质')
    setLocale('en')
    expect(fieldLabel('substances[0].quantity_t')).toBe('Hazardous chemicals #1 Quantity q (t)')
    setLocale('zh-CN')
  })
})
