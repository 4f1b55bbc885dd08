import { expect, test, type Page } from '@playwright/test'
import { signIn, signOut, watchForProblems } from './helpers'

// Every page, in both languages, as the roles that open them: no raw message key or code
// shows, no label, tag, header or button overflows its box, and the interface's own words
// (headers, labels, buttons, menus, placeholders) are in the language chosen. Records' data
// (names, titles) is Chinese in the demo whatever the language, so only the chrome is checked
// for the other language. Runs at 1366×768, the common government laptop.

const PAGES: Record<string, string[]> = {
  'duty.leader': [
    '/', '/notifications', '/duty', '/duty/roster', '/duty/swaps', '/duty/log', '/duty/directory', '/duty/feeds',
    '/duty/settings', '/incidents', '/incidents/console', '/incidents/stats', '/calendar', 'incident',
    '/enterprises', '/enterprises/licences', '/enterprises/risk-points', '/enterprises/hazard-sources',
    '/enterprises/hazard-substances', 'enterprise', '/hazards', '/hazards/board', '/hazards/stats', 'hazard',
    '/inspections', '/checklists', 'inspection', '/campaigns', 'campaign',
  ],
  inspector: [
    '/', '/enterprises', '/enterprises/licences', '/enterprises/risk-points', '/enterprises/hazard-sources',
    '/enterprises/hazard-substances', '/enterprises/import', 'enterprise', '/hazards', '/hazards/board', '/hazards/stats', '/hazards/import', 'hazard',
    '/inspections', '/inspections/new', '/checklists', 'inspection', '/campaigns', 'campaign', '/tipoffs', 'tipoff',
  ],
  enterprise: ['/', '/enterprises', 'enterprise', '/hazards', 'hazard', '/inspections', '/inspections/new', 'inspection'],
  sysadmin: ['/', '/units', '/users', '/tokens', '/calendar'],
  secadmin: ['/security', '/users'],
  auditor: ['/audit'],
}

// Groups of the message files: `incident.kinds.fire` on screen is a key that was not found.
const KEY = /\b(?:common|ledger|nav|auth|home|workbench|status|units|users|tokens|security|audit|outcomes|roles|levels|actions|events|notifications|errors|fieldErrors|fields|duty|incident|calendar|notifyKinds|search|actors|auditFields|documents|lang|permissions|enterprise|imports|danger|inspection|campaign|tipoff|publicTipoff)\.[a-zA-Z_]+/
// A server code shown as it is sent: `shift_lead`, `hazardous_chemicals`.
const CODE = /\b[a-z]+(?:_[a-z]+)+\b/
// ASCII words a Chinese interface uses as they are.
const ASCII_OK = new Set(['ics', 'Beacon', 'English', 'API', 'IP', 'Excel', 'iCalendar', 'CalDAV', 'SMTP', 'GeoJSON', 'SSE', 'LEC', 'CAS', 'URL', 'ID', 'GB', 'JSON', 'HTTP', 'HTTPS', 'CSV', 'ICS'])

interface Finding {
  kind: string
  text: string
}

async function inspect(page: Page, lang: 'zh' | 'en'): Promise<Finding[]> {
  return page.evaluate(
    ({ lang, key, code, asciiOk }) => {
      const KEY = new RegExp(key)
      const CODE = new RegExp(code)
      const ok = new Set(asciiOk)
      const out: { kind: string; text: string }[] = []
      const visible = (el: Element) => {
        const r = el.getBoundingClientRect()
        const style = getComputedStyle(el)
        return r.width > 0 && r.height > 0 && style.visibility !== 'hidden' && style.display !== 'none'
      }
      const skip = (el: Element | null) => !!el?.closest('[data-verbatim], input, textarea, pre, code, .leaflet-container, .print-sheet, .report-sheet, script, style')
      // Raw keys and codes anywhere on screen.
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT)
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const text = node.textContent?.trim() ?? ''
        const parent = node.parentElement
        if (!text || !parent || skip(parent) || !visible(parent)) continue
        const raw = text.match(KEY) ?? text.match(CODE)
        if (raw) out.push({ kind: 'raw key or code', text: `${raw[0]} in "${text.slice(0, 80)}"` })
      }
      // The interface's own words in the chosen language.
      const chrome = 'th .cell, .el-form-item__label, .el-button > span, .el-menu-item, .el-sub-menu__title, h1, h2, h3, .el-tabs__item, .el-radio-button__inner, .el-checkbox__label, .el-descriptions__label, .bench-card-title, .el-pagination__total, .el-pagination__sizes'
      for (const el of document.querySelectorAll(chrome)) {
        if (skip(el) || !visible(el) || el.closest('[data-test="user-menu"], .el-dropdown-menu')) continue
        // Data inside the chrome (a post's name set by the unit, a record's title) is not the
        // interface's wording.
        const copy = el.cloneNode(true) as HTMLElement
        copy.querySelectorAll('[data-verbatim]').forEach((d) => d.remove())
        const text = (copy.textContent ?? '').trim()
        if (!text) continue
        if (lang === 'en' && /[\u3400-\u9fff]/.test(text)) out.push({ kind: 'Chinese in the English interface', text })
        if (lang === 'zh') {
          const words = (text.match(/[A-Za-z]{3,}/g) ?? []).filter((w) => !ok.has(w))
          if (words.length) out.push({ kind: 'English in the Chinese interface', text })
        }
      }
      for (const el of document.querySelectorAll('input[placeholder], textarea[placeholder]')) {
        if (!visible(el) || el.closest('[data-verbatim]')) continue
        const text = el.getAttribute('placeholder') ?? ''
        if (lang === 'en' && /[\u3400-\u9fff]/.test(text)) out.push({ kind: 'Chinese placeholder', text })
        if (lang === 'zh' && (text.match(/[A-Za-z]{3,}/g) ?? []).some((w) => !ok.has(w))) out.push({ kind: 'English placeholder', text })
      }
      // Nothing clipped or pushed out of its box.
      const boxes = '.el-tag, .el-tag__content, th .cell, .el-button, .el-menu-item, .el-form-item__label, .el-radio-button__inner, .el-tabs__item, .el-descriptions__label, .bench-card-title'
      for (const el of document.querySelectorAll(boxes)) {
        if (skip(el) || !visible(el)) continue
        const h = el as HTMLElement
        if (h.scrollWidth > h.clientWidth + 1) out.push({ kind: 'overflows its width', text: `${h.className.split(' ')[0]}: ${h.innerText.trim().slice(0, 60)}` })
        else if (h.scrollHeight > h.clientHeight + 2 && !el.matches('th .cell, .el-tag, .el-tag__content')) out.push({ kind: 'wraps out of its height', text: `${h.className.split(' ')[0]}: ${h.innerText.trim().slice(0, 60)}` })
      }
      return out
    },
    { lang, key: KEY.source, code: CODE.source, asciiOk: [...ASCII_OK] },
  )
}

async function setLanguage(page: Page, lang: 'zh' | 'en') {
  await page.evaluate((l) => localStorage.setItem('beacon.locale', l === 'en' ? 'en' : 'zh-CN'), lang)
}

async function visit(page: Page, path: string) {
  if (path === 'incident') {
    const first = await page.request.get('/api/v1/incidents?per_page=1')
    const id = (await first.json()).items[0].id as string
    await page.goto(`/incidents/${id}`)
  } else if (path === 'hazard') {
    // A major one with a plan, listed: the fullest page.
    const found = await page.request.get('/api/v1/hazards?listed=true&per_page=1')
    const id = (await found.json()).items[0].id as string
    await page.goto(`/hazards/${id}`)
  } else if (path === 'campaign') {
    const found = await page.request.get('/api/v1/campaigns?status=running&per_page=1')
    const id = (await found.json()).items[0].id as string
    await page.goto(`/campaigns/${id}`)
  } else if (path === 'inspection') {
    const found = await page.request.get('/api/v1/inspections?per_page=1')
    const id = (await found.json()).items[0].id as string
    await page.goto(`/inspections/${id}`)
  } else if (path === 'tipoff') {
    // The rewarded one: outcome, hidden danger, reply and reward all shown.
    const found = await page.request.get('/api/v1/tipoffs?reward=paid&per_page=1')
    const id = (await found.json()).items[0].id as string
    await page.goto(`/tipoffs/${id}`)
  } else if (path === 'enterprise') {
    const found = await page.request.get(`/api/v1/enterprises?q=${encodeURIComponent('港华化工')}`)
    const id = (await found.json()).items[0].id as string
    await page.goto(`/enterprises/${id}`)
  } else {
    await page.goto(path)
  }
  await page.waitForLoadState('networkidle')
  await page.waitForTimeout(300)
  // The page rendered (a build or template error shows nothing, or the dev server's overlay).
  await expect(page.locator('vite-error-overlay')).toHaveCount(0)
  await expect(page.locator('.main .page').first()).toBeVisible()
}

test.describe('every page in both languages', () => {
  test.use({ viewport: { width: 1366, height: 768 } })
  for (const [user, paths] of Object.entries(PAGES)) {
    test(`${user}: no raw key, no overflow, no other language`, async ({ page }) => {
      test.setTimeout(180_000)
      const problems = watchForProblems(page)
      await signIn(page, user)
      await expect(page.getByTestId('nav-home')).toBeVisible()
      const findings: string[] = []
      for (const lang of ['zh', 'en'] as const) {
        await setLanguage(page, lang)
        for (const path of paths) {
          await visit(page, path)
          for (const f of await inspect(page, lang)) findings.push(`[${lang}] ${path}: ${f.kind}: ${f.text}`)
        }
        // Every item of the sidebar can be reached, none hidden under its footer.
        await visit(page, '/')
        // Every group open: the longest the menu gets.
        // (One at a time: each click changes which groups are closed.)
        const closed = page.locator('.aside .el-sub-menu:not(.is-opened) > .el-sub-menu__title')
        for (let left = await closed.count(); left > 0; left = await closed.count()) {
          await closed.first().click()
          await expect(closed).toHaveCount(left - 1)
        }
        await page.waitForTimeout(400)
        for (const item of await page.locator('.aside .el-menu-item, .aside .el-sub-menu__title').all()) {
          if (!(await item.isVisible())) {
            findings.push(`[${lang}] sidebar: "${(await item.textContent())?.trim()}" is not shown with every group open`)
            continue
          }
          await item.scrollIntoViewIfNeeded()
          const covered = await item.evaluate((el) => {
            const r = el.getBoundingClientRect()
            const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)
            return !top || !(el === top || el.contains(top))
          })
          if (covered) findings.push(`[${lang}] sidebar: "${(await item.innerText()).trim()}" is covered`)
        }
      }
      await setLanguage(page, 'zh')
      await signOut(page)
      expect([...new Set(findings)]).toEqual([])
      expect(problems).toEqual([])
    })
  }
})
