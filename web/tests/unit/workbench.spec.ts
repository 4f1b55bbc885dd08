// Every card a module registers has a title, and every plain tag a card may carry reads as
// words, in both languages; prefixed tags read through their module's names.
import { describe, expect, it } from 'vitest'
import zh from '@/i18n/zh-CN'
import en from '@/i18n/en'
import { registeredCards, tagText } from '@/workbench'

type Tree = { [key: string]: string | Tree }

function lookup(tree: Tree, key: string): string | undefined {
  let node: string | Tree | undefined = tree
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined
    node = node[part]
  }
  return typeof node === 'string' ? node : undefined
}

const SERVER_TAGS = [
  'checked_in', 'not_checked_in', 'no_shift', 'running', 'check_in', 'handover_due', 'overdue',
  'to_acknowledge', 'unknown_account', 'expired', 'expiring', 'calendar_entered', 'calendar_missing',
]

describe('workbench', () => {
  it('registers a titled card for each module card', () => {
    const keys = registeredCards()
    for (const key of ['duty.on_duty', 'incident.clocks', 'incident.open', 'admin.locked_accounts', 'calendar.years']) {
      expect(keys).toContain(key)
    }
    for (const key of keys) {
      expect(lookup(zh as Tree, `workbench.cards.${key}`), key).toBeTruthy()
      expect(lookup(en as Tree, `workbench.cards.${key}`), key).toBeTruthy()
    }
  })

  it('reads tags as words', () => {
    for (const tree of [zh, en] as Tree[]) {
      const t = (key: string) => lookup(tree, key) ?? key
      for (const tag of SERVER_TAGS) expect(tagText(tag, t)).not.toBe(`workbench.tags.${tag}`)
      expect(tagText('grade:serious', t)).toBe(lookup(tree, 'incident.grades.serious'))
      expect(tagText('hop:county_to_city', t)).toBe(lookup(tree, 'incident.hops.county_to_city'))
    }
  })
})
