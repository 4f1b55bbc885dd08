import { describe, expect, it } from 'vitest'
import { formatSize, percent, uploadUrl } from '@/utils/attachments'

describe('attachments', () => {
  it('put the owner, purpose and an encoded file name in the upload address', () => {
    const url = uploadUrl('licence', 'abc', 'scan', '许可证 1&2.png')
    const query = new URL(url, 'http://x').searchParams
    expect(url.startsWith('/api/v1/attachments?')).toBe(true)
    expect(query.get('owner_kind')).toBe('licence')
    expect(query.get('owner_id')).toBe('abc')
    expect(query.get('purpose')).toBe('scan')
    expect(query.get('name')).toBe('许可证 1&2.png')
  })

  it('read sizes as people do', () => {
    expect(formatSize(0)).toBe('0 B')
    expect(formatSize(1023)).toBe('1023 B')
    expect(formatSize(1536)).toBe('1.5 KB')
    expect(formatSize(20 * 1024 * 1024)).toBe('20 MB')
  })

  it('count progress in whole percent, never past 100', () => {
    expect(percent(0, 0)).toBe(0)
    expect(percent(1, 3)).toBe(33)
    expect(percent(5, 4)).toBe(100)
  })
})
