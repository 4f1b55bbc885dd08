import { expect, test } from '@playwright/test'
import { openAsInspector, watchForProblems } from './helpers'
import { png } from './png'

// Attachments in the browser: the city's inspector opens a licence of the demo's
// 临江港华化工有限公司, uploads a scan (a PNG made here), sees its thumbnail, and downloads
// the very bytes it sent.

test('an inspector attaches a scan to a licence, sees its thumbnail and downloads it', async ({ page }) => {
  const problems = watchForProblems(page)
  await openAsInspector(page, '港华化工', '临江港华化工有限公司')

  await page.getByRole('tab', { name: '证照' }).click()
  const licence = page.getByTestId('licence-table').locator('tbody tr.el-table__row').first()
  await licence.locator('.el-table__expand-icon').click()
  const files = page.getByTestId('licence-table').getByTestId('attachments').first()
  await expect(files).toBeVisible()

  const bytes = png(400, 240)
  const name = `许可证扫描件-${Date.now() % 100000}.png`
  const uploaded = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/v1/attachments')
  await files.getByTestId('attachment-input').setInputFiles({ name, mimeType: 'image/png', buffer: bytes })
  expect((await uploaded).status()).toBe(201)

  const item = files.getByTestId('attachment-item').filter({ hasText: name })
  await expect(item).toHaveCount(1)
  // The thumbnail is the server's JPEG, loaded and drawn.
  const thumbnail = item.getByTestId('attachment-thumbnail')
  await expect(thumbnail).toBeVisible()
  await expect.poll(() => thumbnail.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(320)

  // The download link saves the very bytes that were sent, under their name.
  const download = page.waitForEvent('download')
  await item.getByTestId('attachment-download').click()
  const saved = await download
  expect(saved.suggestedFilename()).toBe(name)
  const path = await saved.path()
  const { readFileSync } = await import('node:fs')
  expect(Buffer.compare(readFileSync(path), bytes)).toBe(0)
  expect(problems).toEqual([])
})
