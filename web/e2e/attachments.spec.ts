import { deflateSync } from 'node:zlib'
import { expect, test } from '@playwright/test'
import { openAsInspector, watchForProblems } from './helpers'

// Attachments in the browser: the city's inspector opens a licence of the demo's
// 临江港华化工有限公司, uploads a scan (a PNG made here), sees its thumbnail, and downloads
// the very bytes it sent.

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

function crc32(bytes: Buffer): number {
  let c = 0xffffffff
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([length, body, crc])
}

/** A real PNG: a width×height RGB gradient. */
function png(width: number, height: number): Buffer {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 2, 0, 0, 0], 8)
  const rows: number[] = []
  for (let y = 0; y < height; y++) {
    rows.push(0)
    for (let x = 0; x < width; x++) rows.push(x % 256, y % 256, 128)
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(Buffer.from(rows))), chunk('IEND', Buffer.alloc(0))])
}

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
