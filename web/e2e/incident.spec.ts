import { expect, test } from '@playwright/test'
import { signIn } from './helpers'

// The district → city flow on the demo city: 江南区's duty officer (jiangnan.officer, unit
// 990102) registers an accident from a call; the city bureau's duty desk (duty.officer, 990100)
// has its console open, sees the report arrive live, and acknowledges it; the district sees
// the hop done. A kind the demo incidents do not use keeps the duplicate guard out of the way.
test('a district report reaches the city console live and the city acknowledges it', async ({ browser }) => {
  const city = await (await browser.newContext()).newPage()
  const district = await (await browser.newContext()).newPage()
  const title = `电梯坠落事故 ${Date.now() % 100000}`

  await signIn(city, 'duty.officer')
  await expect(city.getByTestId('nav-home')).toBeVisible()
  await city.goto('/incidents/console')
  await expect(city.getByTestId('incident-console')).toBeVisible()

  await signIn(district, 'jiangnan.officer')
  await expect(district.getByTestId('nav-home')).toBeVisible()
  await district.goto('/incidents')
  await district.getByTestId('incident-new').click()
  const form = district.getByTestId('incident-form')
  await expect(form).toBeVisible()
  await form.getByTestId('incident-kind').click()
  await district.locator('.incident-kind-options .el-select-dropdown__item', { hasText: '特种设备' }).click()
  await form.getByTestId('incident-title').fill(title)
  await form.getByTestId('incident-place').fill('江南区某商场')
  // An input-number carries its test id on its outer box or on the input itself.
  const deaths = form.locator('[data-test="incident-deaths"] input, input[data-test="incident-deaths"]').first()
  await deaths.fill('3')
  await deaths.blur()
  const created = district.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/v1/incidents')
  await form.getByTestId('incident-save').click()
  expect((await created).status()).toBe(201)
  // The district lands on the incident: relatively serious, its first hop done on intake.
  await expect(district.getByTestId('incident-detail')).toBeVisible()
  await expect(district.getByTestId('incident-detail').getByTestId('grade-tag').first()).toHaveText('较大')
  await expect(district.getByTestId('incident-obligations')).toContainText('县级→市级')

  // The city's console hears of it at once and lists it to acknowledge.
  await expect(city.getByTestId('console-alert').first()).toContainText(title)
  const row = city.getByTestId('console-awaiting').filter({ hasText: title })
  await expect(row).toBeVisible()
  await expect(row.getByTestId('hop-clock')).toContainText('剩')
  const acknowledged = city.waitForResponse((r) => r.request().method() === 'POST' && /\/hops\/county_to_city\/acknowledge$/.test(new URL(r.url()).pathname))
  await row.getByTestId('console-acknowledge').click()
  expect((await acknowledged).status()).toBe(200)
  await expect(city.getByTestId('console-awaiting').filter({ hasText: title })).toHaveCount(0)

  // The district's page follows live: both hops it can see are done on time, the province's
  // clock now runs.
  const obligations = district.getByTestId('incident-obligations')
  await expect(obligations.locator('[data-state="done"]')).toHaveCount(2)
  await expect(obligations.locator('[data-state="running"]')).toHaveCount(1)
})

// A call becomes an incident: the address carries the log entry's id and nothing personal; the
// form proposes a short title, the kind from the call's category and words, and the unit the
// call names rather than the desk's own.
test('a call in the duty log opens the incident form with what it says', async ({ page }) => {
  await signIn(page, 'duty.officer')
  await expect(page.getByTestId('nav-home')).toBeVisible()
  const place = `江北区滨江路${Date.now() % 100000}号`
  const logged = await page.request.post('/api/v1/duty/log', {
    data: {
      received_at: new Date(Date.now() - 5 * 60000).toISOString(), channel: 'phone', category: 'accident',
      caller_name: '赵六', caller_unit: '', caller_phone: '13800138123', place,
      summary: '两辆货车追尾，一人被困，请求救援。', actions: '已通知交警和消防', instructions: '', follow_up: true,
    },
  })
  expect(logged.status()).toBe(201)
  await page.goto('/duty/log')
  const row = page.locator('.el-table__row', { hasText: place }).first()
  await row.getByTestId('log-to-incident').click()
  await expect(page).toHaveURL(/\/incidents\?from_log=[0-9a-f-]{36}$/)
  expect(page.url()).not.toContain('13800138123')
  const form = page.getByTestId('incident-form')
  await expect(form.getByTestId('incident-title')).toHaveValue('两辆货车追尾')
  await expect(form.getByTestId('incident-kind')).toContainText('道路交通')
  await expect(form.getByTestId('incident-unit')).toContainText('江北区')

  // The location is picked on the district's outline (no tiles needed).
  await form.getByTestId('incident-pick-toggle').click()
  const map = form.getByTestId('incident-pick-map').getByTestId('unit-map')
  await expect(map.locator('path.leaflet-interactive, path').first()).toBeVisible()
  await map.click()
  const lon = form.locator('.el-form-item', { hasText: /经度/ }).locator('input')
  await expect(lon).not.toHaveValue('')
  expect(Number(await lon.inputValue())).toBeGreaterThan(100)
})
