// "No untranslated string": both languages have the same keys, every code the server can send
// has a translation in both, and no Chinese text hides in components outside the translations.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import en from '@/i18n/en'
import zh from '@/i18n/zh-CN'

type Tree = { [key: string]: string | Tree }

function keys(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([key, value]) =>
    typeof value === 'string' ? [`${prefix}${key}`] : keys(value, `${prefix}${key}.`),
  )
}

function files(dir: string, pattern: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return files(path, pattern)
    return pattern.test(name) ? [path] : []
  })
}

const repo = join(__dirname, '..', '..', '..')
const rust = files(join(repo, 'crates'), /\.rs$/)
  .filter((path) => !path.includes('/tests/'))
  // Unit tests sit at the end of each file, after #[cfg(test)]; their literals are not codes.
  .map((path) => readFileSync(path, 'utf8').split('#[cfg(test)]')[0])
  .join('\n')

/** Every code literal the server puts into an error or a field error. */
function serverCodes(): Set<string> {
  const codes = new Set<string>()
  const patterns = [
    /\bErr\("([a-z_]+)"\)/g,
    /\.add\("[a-z_.]+",\s*"([a-z_]+)"\)/g,
    /(?:field|invalid)\("[a-z_]+",\s*"([a-z_]+)"\)/g,
    /(?:Conflict|Forbidden|forbidden|conflict|unauthenticated)\("([a-z_]+)"\)/g,
    /ApiError::new\(\s*StatusCode::[A-Z_]+,\s*"([a-z_]+)"\)/g,
    /\(field_of\(path\), "([a-z_]+)"\)|\(join_path\(path, name\), "([a-z_]+)"\)/g,
    /PasswordCheck::\w+ => "([a-z_]+)"/g,
  ]
  for (const pattern of patterns) {
    for (const match of rust.matchAll(pattern)) {
      const code = match[1] ?? match[2]
      if (code) codes.add(code)
    }
  }
  return codes
}

describe('translations', () => {
  it('have the same keys in Chinese and English', () => {
    expect(keys(en as Tree).sort()).toEqual(keys(zh as Tree).sort())
  })

  it('have no empty message', () => {
    for (const [name, messages] of [['zh', zh], ['en', en]] as const) {
      const tree = messages as Tree
      for (const key of keys(tree)) {
        const value = key.split('.').reduce<string | Tree>((node, part) => (node as Tree)[part] as string | Tree, tree)
        expect(String(value).trim(), `${name}: ${key}`).not.toBe('')
      }
    }
  })

  it('cover every error code the server sends', () => {
    const codes = serverCodes()
    expect(codes.size).toBeGreaterThan(40)
    const known = new Set([...Object.keys(zh.errors), ...Object.keys(zh.fieldErrors)])
    const missing = [...codes].filter((code) => !known.has(code))
    expect(missing).toEqual([])
  })

  it('cover every code in the server’s message table', () => {
    const table = readFileSync(join(repo, 'crates/api/src/http/error.rs'), 'utf8')
    const codes = [...table.matchAll(/^\s+"([a-z_]+)" =>/gm)].map((m) => m[1])
    expect(codes.length).toBeGreaterThan(25)
    for (const code of codes) expect(Object.keys(zh.errors), code).toContain(code)
  })

  it('name every role, level and audited action', () => {
    const roles = ['duty_officer', 'duty_leader', 'leader', 'inspector', 'petition_officer', 'staff', 'enterprise', 'system_admin', 'security_admin', 'audit_admin', 'viewer']
    expect(Object.keys(zh.roles).sort()).toEqual(roles.sort())
    const actions = new Set<string>()
    for (const match of rust.matchAll(/NewAuditRecord::new\([^,]+,\s*"([a-z_.]+)"/g)) actions.add(match[1] ?? '')
    for (const match of rust.matchAll(/\baction = if own \{ "([a-z_.]+)" \} else \{ "([a-z_.]+)" \}/g)) {
      actions.add(match[1] ?? '')
      actions.add(match[2] ?? '')
    }
    for (const match of rust.matchAll(/=> "((?:user|unit|auth|token|security|audit|access)\.[a-z_]+)"/g)) actions.add(match[1] ?? '')
    expect(actions.size).toBeGreaterThan(12)
    const translated = Object.keys(zh.actions)
    const missing = [...actions].filter((action) => !translated.includes(action.replace(/\./g, '_')))
    expect(missing).toEqual([])
  })
})

describe('components', () => {
  it('keep Chinese text and full-width punctuation in the translation files only', () => {
    const src = join(__dirname, '..', '..', 'src')
    const offenders = files(src, /\.(vue|ts)$/)
      .filter((path) => !path.includes('/i18n/'))
      // Generated from the server's OpenAPI document, whose descriptions name Chinese terms.
      .filter((path) => !path.endsWith('/api/schema.d.ts'))
      // Han characters, CJK punctuation (。、「」…) and full-width forms (：；，（）).
      .filter((path) => /[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]/.test(readFileSync(path, 'utf8')))
    expect(offenders).toEqual([])
  })
})

describe('month names', () => {
  it('follow the UI language', async () => {
    const { setLocale } = await import('@/i18n')
    const { monthName } = await import('@/utils/format')
    setLocale('en')
    expect(monthName(1)).toBe('Jan')
    expect(monthName(12)).toBe('Dec')
    setLocale('zh-CN')
    expect(monthName(3)).toBe('3月')
  })
})
