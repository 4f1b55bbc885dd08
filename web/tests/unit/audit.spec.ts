// Who did what, as a person reads it: people by name, the server's own work as the system,
// changes as fields before and after with ids named.
import { afterEach, describe, expect, it } from 'vitest'
import { setLocale } from '@/i18n'
import { actorName, actorWithUnit } from '@/utils/actor'
import { detailView } from '@/utils/audit'

afterEach(() => setLocale('zh-CN'))

describe('actors', () => {
  it('read as people, the system or an API token', () => {
    setLocale('zh-CN')
    expect(actorName('王值班')).toBe('王值班')
    expect(actorName('system:scheduler')).toBe('系统（定时任务）')
    expect(actorName('system:something-new')).toBe('系统（服务器操作）')
    expect(actorName('token:省平台')).toBe('接口令牌「省平台」')
    expect(actorWithUnit('王值班', '临江市应急管理局')).toBe('王值班（临江市应急管理局）')
    expect(actorWithUnit('system:scheduler', '临江市应急管理局')).toBe('系统（定时任务）')
    setLocale('en')
    expect(actorName('system:scheduler')).toBe('System (scheduled task)')
  })
})

describe('audit detail', () => {
  it('shows the changed fields before and after, with ids named', () => {
    setLocale('zh-CN')
    const view = detailView(
      { before: { name: '江南区', parent_id: 'u1', sort_order: 1 }, after: { name: '江南新区', parent_id: 'u2', sort_order: 1 }, username: 'a' },
      { u1: '临江市', u2: '临港区' },
    )
    expect(view.changes).toEqual([
      { field: 'name', label: '名称', before: '江南区', after: '江南新区' },
      { field: 'parent_id', label: '上级单位', before: '临江市', after: '临港区' },
    ])
    expect(view.context).toEqual([{ field: 'username', label: '用户名', value: 'a' }])
  })

  it('shows a created record as its fields, and context without JSON', () => {
    setLocale('en')
    const view = detailView({ after: { roles: ['duty_officer'], active: true }, failures: 3, nested: { late: false } })
    expect(view.changes.map((c) => [c.label, c.before, c.after])).toEqual([
      ['Roles', '—', 'Duty officer'],
      ['Status', '—', 'Yes'],
    ])
    expect(view.context).toEqual([
      { field: 'failures', label: 'Failures', value: '3' },
      { field: 'nested', label: 'nested', value: 'Late: No' },
    ])
    expect(detailView({})).toEqual({ changes: [], context: [] })
  })
})
