import { expect, test, type Page } from '@playwright/test'
import { signIn, signOut, watchForProblems } from './helpers'
import { png } from './png'

// A citizen's anonymous tip-off from the public page, with a point picked on the city's map and
// a photo, becomes a hidden danger at the hands of the city's inspector, who answers it; the
// citizen reads the answer by the query code, signed in as nobody.

async function answerPrompt(page: Page, text: string) {
  const box = page.locator('.el-message-box')
  await expect(box).toBeVisible()
  await box.locator('textarea, input').first().fill(text)
  await box.locator('.el-message-box__btns .el-button--primary').click()
}

async function readStatus(page: Page, code: string) {
  await page.goto('/report/status')
  await page.getByTestId('status-code').fill(code)
  await page.getByTestId('status-look').click()
}

test('an anonymous tip-off becomes a hidden danger and the citizen reads the reply by code', async ({ page }) => {
  test.setTimeout(120_000)
  const problems = watchForProblems(page)
  const content = `厂区北侧仓库夜间有人违规电焊，旁边堆放油漆桶 ${Date.now()}`

  // The public page, signed in as nobody: a wrong code first reads as none.
  await readStatus(page, 'ABCD-EFGH-JKMN-PQRS')
  await expect(page.getByTestId('status-problem')).toBeVisible()
  await page.goto('/report')
  await page.getByTestId('public-content').fill(content)
  await page.getByTestId('public-place').fill('临港工业区北路 18 号')
  await page.getByTestId('public-map').click()
  await page.getByTestId('public-enterprise').fill('临江港华化工有限公司')
  await page.getByTestId('public-photos').setInputFiles({ name: 'site.png', mimeType: 'image/png', buffer: png(64, 48) })
  await page.getByTestId('public-submit').click()
  const code = (await page.getByTestId('public-code').innerText()).trim()
  expect(code).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/)
  await readStatus(page, code)
  await expect(page.getByTestId('status-state')).toHaveText('正在办理')

  // The city's inspector finds it in the inbox, with its photo, and concludes it as founded.
  await signIn(page, 'inspector')
  await expect(page.getByTestId('nav-home')).toBeVisible()
  await page.goto('/tipoffs')
  await page.getByTestId('tipoff-ledger').locator('tbody tr', { hasText: content.slice(0, 12) }).first().click()
  await expect(page.getByTestId('tipoff-content')).toHaveText(content)
  await expect(page.getByTestId('tipoff-reporter')).toHaveText('匿名')
  await expect(page.getByTestId('attachment-item')).toHaveCount(1)
  await page.getByTestId('step-conclude').click()
  const dialog = page.getByTestId('tipoff-conclude')
  await expect(dialog.getByTestId('tipoff-enterprise')).toContainText('临江港华化工有限公司')
  await dialog.getByTestId('tipoff-findings').fill('现场核查属实，已责令停止动火作业')
  await dialog.getByTestId('tipoff-conclude-save').click()
  await expect(page.getByTestId('tipoff-state')).toHaveText('属实')
  const hazard = page.getByTestId('tipoff-hazard')
  await expect(hazard).toContainText('YH-')

  // Answered: the reply goes to the citizen.
  await page.getByTestId('step-reply').click()
  await answerPrompt(page, '经核查属实，已责令企业整改，感谢您的监督。')
  await expect(page.getByTestId('tipoff-answered')).toBeVisible()

  // The hidden danger it became, of origin "tip-off".
  await hazard.click()
  await expect(page.getByTestId('danger-description')).toContainText('电焊')
  await expect(page.locator('.el-descriptions__cell', { hasText: '群众举报' }).first()).toBeVisible()

  // The citizen, signed in as nobody, reads the reply.
  await signOut(page)
  await readStatus(page, code.toLowerCase())
  await expect(page.getByTestId('status-state')).toHaveText('已答复')
  await expect(page.getByTestId('status-reply')).toHaveText('经核查属实，已责令企业整改，感谢您的监督。')
  // The public page speaks English too.
  await page.evaluate(() => localStorage.setItem('beacon.locale', 'en'))
  await page.goto('/report')
  await expect(page.getByTestId('public-submit')).toHaveText('Send')
  await page.evaluate(() => localStorage.setItem('beacon.locale', 'zh-CN'))
  expect(problems).toEqual([])
})
