// The Excel export links carry the list's filter (only what is set) and the language.
import { describe, expect, it } from 'vitest'
import { exportLang, workbookUrl } from '@/utils/export'

describe('workbookUrl', () => {
  it('keeps the set values, drops the unset ones and adds the language', () => {
    const url = workbookUrl('/api/v1/enterprises.xlsx', { unit: 'u1', q: '港华', colour: undefined, mark: '', status: null, expired_licence: true, page: 2 }, 'zh-CN')
    const parsed = new URL(url, 'http://x')
    expect(parsed.pathname).toBe('/api/v1/enterprises.xlsx')
    expect([...parsed.searchParams.keys()]).toEqual(['unit', 'q', 'expired_licence', 'page', 'lang'])
    expect(parsed.searchParams.get('q')).toBe('港华')
    expect(parsed.searchParams.get('lang')).toBe('zh')
  })

  it('names English for the English interface and Chinese otherwise', () => {
    expect(exportLang('en')).toBe('en')
    expect(exportLang('zh-CN')).toBe('zh')
    expect(workbookUrl('/a.xlsx', {}, 'en')).toBe('/a.xlsx?lang=en')
  })
})
