import { expect, test, type Page } from '@playwright/test'
import { openAsInspector, signIn } from './helpers'
import { xlsx } from './xlsx'

// The safety-production register on the demo city: the city's inspector finds an enterprise by
// a fragment of its name, evaluates a new risk point by LEC and sees the enterprise turn red on
// its page and on the four-colour map; the enterprise's own account sees only itself and its
// renaming waits for the regulator.

async function pick(page: Page, select: ReturnType<Page['getByTestId']>, option: string) {
  // One dropdown at a time: the previous one fades out while the next opens.
  await expect(page.locator('.el-select-dropdown:visible')).toHaveCount(0)
  await select.click()
  await page.locator('.el-select-dropdown:visible .el-select-dropdown__item').getByText(option, { exact: true }).click()
}

test('an inspector evaluates a red risk point and the enterprise turns red', async ({ page }) => {
  await openAsInspector(page, '港华化工', '临江港华化工有限公司')

  // The demo's liquid-chlorine store is a major hazard source graded 二级 by GB 18218.
  await page.getByRole('tab', { name: '重大危险源' }).click()
  await expect(page.getByTestId('hazard-table').locator('tr', { hasText: '液氯储存库' })).toContainText('二级')

  await page.getByRole('tab', { name: '风险点' }).click()
  await page.getByTestId('risk-add').click()
  const form = page.getByTestId('risk-form')
  await expect(form).toBeVisible()
  const name = `液氯储罐区 ${Date.now() % 100000}`
  await form.getByTestId('risk-name').fill(name)
  await form.getByTestId('risk-types').click()
  await page.locator('.el-select-dropdown:visible .el-select-dropdown__item', { hasText: '中毒和窒息' }).click()
  await form.getByTestId('risk-name').click()
  await pick(page, form.getByTestId('risk-l'), '6')
  await pick(page, form.getByTestId('risk-e'), '10')
  await pick(page, form.getByTestId('risk-c'), '7')
  await expect(form.getByTestId('risk-d')).toHaveText('420')
  const saved = page.waitForResponse((r) => r.request().method() === 'POST' && /\/risk-points$/.test(new URL(r.url()).pathname))
  await form.getByTestId('risk-save').click()
  expect((await saved).status()).toBe(201)
  await expect(page.getByTestId('risk-table')).toContainText(name)
  await expect(page.getByTestId('enterprise-title')).toContainText('重大风险')

  // Its notice card, to post at the place: the red band and the point's name.
  await page.getByTestId(`risk-card-${name}`).click()
  await expect(page.getByTestId('risk-card-name')).toHaveText(name)
  await expect(page.getByTestId('risk-card-level')).toHaveText('重大风险（红色）')
  await page.goBack()
  await expect(page.getByTestId('enterprise-title')).toContainText('重大风险')

  // The four-colour map answers the same colour for it.
  const id = new URL(page.url()).pathname.split('/').pop()
  const map = await (await page.request.get('/api/v1/risk-map?colour=red')).json()
  expect(map.points.some((p: { id: string }) => p.id === id)).toBe(true)
  await page.goto('/enterprises')
  await page.getByTestId('enterprise-view-map').click()
  await expect(page.getByTestId('risk-map')).toBeVisible()

  // The licence ledger lists the demo's expiring licences.
  await page.goto('/enterprises/licences')
  await expect(page.getByTestId('licence-ledger').locator('tbody tr').first()).toBeVisible()
  // …and hands the same filter over as a workbook.
  const download = page.waitForEvent('download')
  await page.getByTestId('licences-export').click()
  expect((await download).suggestedFilename()).toMatch(/^licences-\d{8}\.xlsx$/)

  // The risk-point ledger puts the new red point among the district's red ones, and a row
  // opens its enterprise on the risk tab; the major hazard ledger holds the chlorine store.
  await page.goto('/enterprises/risk-points')
  await page.getByTestId('risk-points-colour').click()
  await page.locator('.el-select-dropdown:visible .el-select-dropdown__item', { hasText: '重大风险' }).click()
  await expect(page).toHaveURL(/colour=red/)
  await page.getByTestId('ledger-q').fill('港华化工')
  await page.getByTestId('ledger-q').press('Enter')
  const row = page.getByTestId('risk-point-ledger').locator('tbody tr', { hasText: name })
  await expect(row).toBeVisible()
  await row.click()
  await expect(page.getByTestId('risk-table')).toContainText(name)
  await page.goto('/enterprises/hazard-sources')
  await expect(page.getByTestId('hazard-source-ledger').locator('tbody tr', { hasText: '液氯储存库' })).toContainText('二级')
  const sources = page.waitForEvent('download')
  await page.getByTestId('hazard-sources-export').click()
  expect((await sources).suggestedFilename()).toMatch(/^hazard-sources-\d{8}\.xlsx$/)
})

test('an enterprise account sees only its own enterprise and a renaming waits for the regulator', async ({ page }) => {
  await signIn(page, 'enterprise')
  await expect(page.getByTestId('nav-home')).toBeVisible()
  const list = await (await page.request.get('/api/v1/enterprises')).json()
  expect(list.total).toBe(1)
  const own = list.items[0]
  await page.goto(`/enterprises/${own.id}`)
  await expect(page.getByTestId('enterprise-title')).toContainText(own.name)
  await page.getByTestId('enterprise-edit').click()
  const form = page.getByTestId('enterprise-form')
  await expect(form).toBeVisible()
  await form.getByTestId('enterprise-name').fill(`${own.name}（新）`)
  const saved = page.waitForResponse((r) => r.request().method() === 'PUT' && new URL(r.url()).pathname === `/api/v1/enterprises/${own.id}`)
  await form.getByTestId('enterprise-save').click()
  expect((await saved).ok()).toBe(true)
  // The name stays until a regulator confirms; the request is listed.
  await expect(page.getByTestId('enterprise-title')).toContainText(own.name)
  await expect(page.getByTestId('enterprise-title')).not.toContainText('（新）')
  await page.getByRole('tab', { name: '变更申请' }).click()
  await expect(page.getByTestId('change-table')).toContainText('（新）')

  // Another enterprise is simply not there.
  const other = await page.request.get('/api/v1/enterprises/00000000-0000-7000-8000-000000000000')
  expect(other.status()).toBe(404)
})

test('an inspector imports the register from a workbook and finds the enterprise on the map and its page', async ({ page }) => {
  await signIn(page, 'inspector')
  await expect(page.getByTestId('nav-home')).toBeVisible()
  await page.goto('/enterprises')
  await page.getByTestId('enterprise-import').click()
  await expect(page).toHaveURL(/\/enterprises\/import$/)

  // An office's own sheet: a title row, its own header names, one good row and one mistyped code.
  const name = `江南导入化工 ${Date.now() % 100000}`
  const file = xlsx([
    ['江南区企业台账'],
    ['企业名称', '统一社会信用代码', '属地', '行业门类', '监管行业', '经度', '纬度'],
    [name, '91350100M000100Y43', '滨江街道', 'C', '危险化学品', '118.10', '30.55'],
    ['错码公司', '91350100M000100Y44', '滨江街道', 'C', '冶金', '', ''],
  ])
  await page.locator('.el-upload input[type=file]').setInputFiles({ name: '江南区企业台账.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', buffer: file })
  await expect(page.getByTestId('import-status')).toHaveText('已预检', { timeout: 30_000 })
  const problems = page.getByTestId('import-problems')
  await expect(problems.locator('tbody tr')).toHaveCount(1)
  await expect(problems).toContainText('4')
  await expect(problems).toContainText('校验位不对')

  await page.getByTestId('import-commit').click()
  await page.locator('.el-message-box').getByRole('button', { name: /确定|OK/ }).click()
  await expect(page.getByTestId('import-status')).toHaveText('已导入', { timeout: 30_000 })
  await expect(page.getByTestId('import-history').locator('tbody tr').first()).toContainText('陈检查')

  // On the four-colour map (no risk points yet, so uncoloured), then its page.
  const map = await (await page.request.get('/api/v1/risk-map')).json()
  const point = map.points.find((p: { name: string }) => p.name === name)
  expect(point).toBeTruthy()
  await page.getByTestId('import-done').click()
  await page.getByTestId('enterprise-search').fill(name)
  await page.getByTestId('enterprise-search').press('Enter')
  const rows = page.getByTestId('enterprise-table').locator('tbody tr')
  await expect(rows).toHaveCount(1)
  await rows.first().click()
  await expect(page.getByTestId('enterprise-title')).toContainText(name)
  expect(new URL(page.url()).pathname).toBe(`/enterprises/${point.id}`)
})
