import { describe, expect, it } from 'vitest'
import { proposeStages, stageOn, percent } from '@/api/campaigns'

describe('campaign stages', () => {
  it('split a period into four stages in order, inside it, without overlap', () => {
    const stages = proposeStages('2026-03-01', '2026-12-31')
    expect(stages.map((s) => s.stage)).toEqual(['deploy', 'investigate_rectify', 'supervise_check', 'summarise_accept'])
    expect(stages[0]?.starts_on).toBe('2026-03-01')
    expect(stages[3]?.ends_on).toBe('2026-12-31')
    for (let i = 0; i < stages.length; i++) {
      const s = stages[i]!
      expect(s.starts_on <= s.ends_on).toBe(true)
      if (i > 0) expect(stages[i - 1]!.ends_on <= s.starts_on).toBe(true)
    }
    expect(stageOn(stages, '2026-03-02')).toBe('deploy')
    expect(stageOn(stages, '2026-12-31')).toBe('summarise_accept')
    expect(stageOn(stages, '2027-01-01')).toBeNull()
  })

  it('still gives four stages to a very short campaign', () => {
    const stages = proposeStages('2026-03-01', '2026-03-04')
    expect(stages).toHaveLength(4)
    expect(stages.every((s) => s.starts_on <= s.ends_on)).toBe(true)
  })

  it('shows rates as percentages', () => {
    expect(percent(0.5)).toBe('50.0%')
    expect(percent(1)).toBe('100.0%')
  })
})
