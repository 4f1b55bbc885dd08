import { expect, test } from '@playwright/test'
import { signIn } from './helpers'

// The workbench of the demo's district duty officer (江南区, which has an open incident awaiting
// the city): the cards of the duty desk and the incidents show, and an item opens its record
// in one click.
test('the workbench shows the duty desk its cards and an item opens its record', async ({ page }) => {
  await signIn(page, 'jiangnan.officer')
  await expect(page.getByTestId('nav-home')).toBeVisible()
  await page.goto('/')
  const open = page.locator('[data-card="incident.open"]')
  await expect(open).toBeVisible()
  await expect(page.locator('[data-card="duty.on_duty"]')).toBeVisible()
  await expect(page.locator('[data-card="incident.clocks"]')).toBeVisible()
  // No raw key of a card title shows.
  await expect(page.locator('.bench-card-title', { hasText: 'workbench.' })).toHaveCount(0)
  const first = open.locator('li.link').first()
  const title = (await first.locator('.bench-item-title').innerText()).trim()
  expect(title).toMatch(/^990102-\d{4}-\d{4} /)
  await first.click()
  await expect(page).toHaveURL(/\/incidents\/[0-9a-f-]{36}$/)
  await expect(page.getByText(title.split(' ').slice(1).join(' ')).first()).toBeVisible()
})

// The inspector's workbench names the demo's licences about to expire; "view all" opens the
// licence ledger on the expired ones, and an item opens its enterprise on the licences tab.
test('the register tells an inspector of expiring licences and leads to them', async ({ page }) => {
  await signIn(page, 'inspector')
  await expect(page.getByTestId('nav-home')).toBeVisible()
  await page.goto('/')
  const card = page.locator('[data-card="enterprise.licences"]')
  await expect(card).toBeVisible()
  await expect(card.locator('.bench-card-title')).toHaveText('证照到期')
  await card.getByRole('button', { name: '查看全部' }).click()
  await expect(page).toHaveURL(/\/enterprises\/licences\?state=expired/)
  await expect(page.getByTestId('licences-expired')).toHaveClass(/is-active/)
  await page.goBack()
  await card.locator('li.link').first().click()
  await expect(page).toHaveURL(/\/enterprises\/[0-9a-f-]{36}\?tab=licences$/)
  await expect(page.getByTestId('licence-table')).toBeVisible()
})

// An address that leads nowhere, and a page the role may not open, say so.
test('an unknown address and a forbidden page answer plainly', async ({ page }) => {
  await signIn(page, 'jiangnan.officer')
  await expect(page.getByTestId('nav-home')).toBeVisible()
  await page.goto('/no/such/page')
  await expect(page.getByTestId('status-not_found')).toBeVisible()
  await page.goto('/users')
  await expect(page.getByTestId('status-forbidden')).toBeVisible()
  await expect(page).toHaveURL(/\/forbidden\?from=/)
  await page.getByTestId('status-forbidden').getByRole('button').click()
  await expect(page.locator('[data-card="incident.open"]')).toBeVisible()
})

// The search box finds an incident by its number and opens it from the keyboard; units in
// scope show under their own heading.
test('the search finds an incident by number and opens it with the keyboard', async ({ page }) => {
  await signIn(page, 'jiangnan.officer')
  await expect(page.getByTestId('nav-home')).toBeVisible()
  await page.keyboard.press('/')
  const box = page.getByTestId('search-input')
  await expect(box).toBeFocused()
  await box.fill('990102-')
  const results = page.getByTestId('search-results')
  await expect(results.locator('[data-group="incident"]')).toBeVisible()
  const second = results.getByTestId('search-hit').nth(1)
  const label = (await second.locator('.label').innerText()).trim()
  expect(label).toMatch(/^990102-\d{4}-\d{4} /)
  await box.press('ArrowDown')
  await box.press('Enter')
  await expect(page).toHaveURL(/\/incidents\/[0-9a-f-]{36}$/)
  await expect(page.getByText(label.split(' ').slice(1).join(' ')).first()).toBeVisible()

  await box.fill('江南')
  await expect(results.locator('[data-group="unit"]')).toBeVisible()
  await box.press('Escape')
  await expect(results).toBeHidden()
})
