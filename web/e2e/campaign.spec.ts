import { expect, test } from '@playwright/test'
import { signIn, watchForProblems } from './helpers'

// The demo city's running hazardous-chemicals campaign: the city's inspector reads its progress
// per territory, opens a campaign check from its target list, records it on the field form, and
// the progress table counts one more enterprise checked.

test('a campaign check from the target list counts in the progress table', async ({ page }) => {
  test.setTimeout(90_000)
  const problems = watchForProblems(page)
  await signIn(page, 'inspector')
  await expect(page.getByTestId('nav-home')).toBeVisible()
  await page.goto('/campaigns')
  await page.getByTestId('campaign-ledger').locator('tbody tr', { hasText: '危险化学品安全风险集中治理' }).click()
  await expect(page.getByTestId('campaign-status')).toHaveText('进行中')
  const progress = page.getByTestId('campaign-progress')
  await expect(progress.locator('tbody tr').first()).toBeVisible()
  const campaign = page.url().split('/').pop()
  const checkedBefore = async () => {
    const response = await page.request.get(`/api/v1/campaigns/${campaign}/progress`)
    return (await response.json()).total.checked as number
  }
  const before = await checkedBefore()

  // A target not yet checked: a campaign check from its row.
  await page.getByRole('tab', { name: '目标企业清单' }).click()
  const list = page.getByTestId('campaign-target-list')
  const row = list.locator('tbody tr', { hasText: '未检查' }).first()
  await expect(row).toBeVisible()
  const name = (await row.locator('td').first().innerText()).trim()
  await row.getByTestId('campaign-check').click()
  const form = page.getByTestId('inspection-form')
  await expect(page.getByTestId('inspection-campaign')).toHaveText('危险化学品安全风险集中治理')
  await expect(form.getByTestId('inspection-enterprise')).toContainText(name)
  await form.getByTestId('finding-description').fill('危险化学品仓库未设置防泄漏围堰')
  await form.getByTestId('inspection-save').click()
  await expect(page.getByTestId('inspection-title')).toContainText('JC-')
  expect(await checkedBefore()).toBe(before + 1)
  expect(problems).toEqual([])
})
