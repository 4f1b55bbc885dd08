// The import page's small rules: what counts as running, what a commit would write, and how a
// problem's column is labelled.
import { describe, expect, it } from 'vitest'
import { problemColumn, running, writable } from '@/api/imports'

describe('imports', () => {
  it('runs while checking or committing only', () => {
    expect(running({ status: 'checking' })).toBe(true)
    expect(running({ status: 'committing' })).toBe(true)
    expect(running({ status: 'checked' })).toBe(false)
    expect(running({ status: 'failed' })).toBe(false)
  })

  it('writes the created and updated rows', () => {
    expect(writable({ rows_created: 3, rows_updated: 2 })).toBe(5)
    expect(writable({ rows_created: 0, rows_updated: 0 })).toBe(0)
  })

  it('labels a problem by its letter and the header the file has', () => {
    expect(problemColumn({ cell: 'B', column: '*统一社会信用代码' })).toBe('B · *统一社会信用代码')
    expect(problemColumn({ cell: null, column: '企业名称' })).toBe('企业名称')
    expect(problemColumn({ cell: 'C', column: null })).toBe('C')
  })
})
