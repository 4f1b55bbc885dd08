// Every message key the components name literally exists (in both languages, which the i18n
// test keeps equal): a typo shows up here rather than as a raw key on screen.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import zh from '@/i18n/zh-CN'

type Tree = { [key: string]: string | Tree }

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return name === 'i18n' ? [] : files(path)
    return /\.(vue|ts)$/.test(name) && !name.endsWith('.d.ts') ? [path] : []
  })
}

function has(tree: Tree, key: string): boolean {
  let node: string | Tree | undefined = tree
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null) return false
    node = node[part]
  }
  return typeof node === 'string'
}

describe('message keys', () => {
  it('named in the components exist', () => {
    const src = join(__dirname, '..', '..', 'src')
    const missing: string[] = []
    for (const path of files(src)) {
      const text = readFileSync(path, 'utf8')
      for (const match of text.matchAll(/\bt\(\s*'([a-zA-Z][a-zA-Z0-9_]*(?:\.[a-zA-Z0-9_]+)+)'/g)) {
        const key = match[1] ?? ''
        if (!has(zh as Tree, key)) missing.push(`${path.slice(src.length + 1)}: ${key}`)
      }
    }
    expect(missing).toEqual([])
  })
})

describe('components', () => {
  it('keep their style blocks after the template', () => {
    const src = join(__dirname, '..', '..', 'src')
    const misplaced = files(src)
      .filter((path) => path.endsWith('.vue'))
      .filter((path) => {
        const text = readFileSync(path, 'utf8')
        const end = text.lastIndexOf('</template>')
        return [...text.matchAll(/<style\b/g)].some((m) => (m.index ?? 0) < end)
      })
    expect(misplaced).toEqual([])
  })
})
