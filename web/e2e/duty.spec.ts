import { expect, test, type Page, type Response } from '@playwright/test'
import { DEMO_PASSWORD, signIn, signOut, watchForProblems } from './helpers'

// The duty desk on the demo city (crates/beacon/src/demo_duty.rs): the city bureau 990100 has a
// published roster for the past 30 and next 60 days, one 24-hour shift a day from 08:30. On the
// shift covering now `duty.leader` leads and `duty.officer` is an officer; on the next shift
// `leader` leads and `staff` is an officer. Display names: 王值班 (duty.officer), 李带班
// (duty.leader), 周办事 (staff). The tests build on each other, in order.
test.describe.configure({ mode: 'serial' })

const OFFICER = '王值班'
const STAFF = '周办事'
const OFFICER_POST = '值班员'

/** Passwords chosen when the server asks for a change at first sign-in. */
const passwords: Record<string, string> = {}

async function login(page: Page, username: string) {
  await signIn(page, username, passwords[username] ?? DEMO_PASSWORD)
  await page.waitForURL((url) => !url.pathname.startsWith('/login'))
  if (new URL(page.url()).pathname === '/password') {
    const chosen = `Duty-Desk-${Date.now() % 100000}x`
    await page.getByTestId('current-password').fill(passwords[username] ?? DEMO_PASSWORD)
    await page.getByTestId('new-password').fill(chosen)
    await page.getByTestId('repeat-password').fill(chosen)
    await page.getByTestId('change-password').click()
    passwords[username] = chosen
  }
  await expect(page.getByTestId('nav-home')).toBeVisible()
}

function api(path: string, method = 'GET') {
  return (response: Response) =>
    response.request().method() === method && new URL(response.url()).pathname === `/api/v1${path}`
}

function apiMatching(pattern: RegExp, method: string) {
  return (response: Response) => response.request().method() === method && pattern.test(new URL(response.url()).pathname)
}

test('a duty leader generates and publishes a month beyond the demo roster', async ({ page }) => {
  const problems = watchForProblems(page)
  await login(page, 'duty.leader')
  const first = page.waitForResponse(api('/duty/shifts'))
  await page.goto('/duty/roster')
  await first
  await expect(page.getByTestId('roster-month')).toBeVisible()

  // Four months ahead is past the seeded 60 days whatever the day of the month.
  for (let i = 0; i < 4; i++) {
    const loaded = page.waitForResponse(api('/duty/shifts'))
    await page.getByTestId('roster-month-next').click()
    expect((await loaded).status()).toBe(200)
  }

  await page.getByTestId('roster-generate').click()
  const generated = page.waitForResponse(api('/duty/roster/generate', 'POST'))
  await page.getByTestId('roster-generate-confirm').click()
  const generation = await generated
  expect(generation.status()).toBe(200)
  expect((await generation.json()).shifts_created).toBeGreaterThan(27)
  await expect(page.getByTestId('shift-draft').first()).toBeVisible()
  await page.screenshot({ path: 'test-results/roster-drafts.png', fullPage: true })

  await page.getByTestId('roster-publish').click()
  let published = page.waitForResponse(api('/duty/roster/publish', 'POST'))
  await page.getByTestId('roster-publish-confirm').click()
  let answer = await published
  if (answer.status() === 409) {
    expect((await answer.json()).code).toBe('roster_has_gaps')
    published = page.waitForResponse(api('/duty/roster/publish', 'POST'))
    await page.getByTestId('publish-ack').click()
    answer = await published
  }
  expect(answer.status()).toBe(200)
  expect((await answer.json()).shifts_published).toBeGreaterThan(27)
  await expect(page.getByTestId('shift-draft')).toHaveCount(0)
  await expect(page.getByTestId('shift-published').first()).toBeVisible()
  await signOut(page)
  expect(problems).toEqual([])
})

/** Today in Beijing, `YYYY-MM-DD`. */
function beijingToday(): string {
  return new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' })
}

/**
 * The demo's fair rotation can keep 王值班 and 周办事 on the same shifts, and a colleague already on
 * a shift cannot cover it. If so, the leader frees 周办事 from one of 王值班's future shifts in the
 * roster editor (choosing another officer in the post's list, as a keyboard user would).
 */
async function freeStaffFromAnOfficerShift(page: Page) {
  await login(page, 'duty.leader')
  const loaded = page.waitForResponse(api('/duty/shifts'))
  await page.goto('/duty/roster')
  await loaded
  const today = beijingToday()
  for (let month = 0; month < 2; month++) {
    const days = page.getByTestId('roster-day').filter({ hasText: OFFICER }).filter({ hasText: STAFF })
    const dates = await days.evaluateAll((cells) => cells.map((c) => c.getAttribute('data-date') ?? ''))
    const date = dates.find((d) => d > today)
    if (date) {
      await page.locator(`[data-test="roster-day"][data-date="${date}"]`).getByTestId('shift-published').first().click()
      const post = page.getByTestId('post').filter({ hasText: STAFF })
      await post.getByTestId('post-select').click()
      await page.getByRole('option', { name: new RegExp(OFFICER_POST), disabled: false }).first().click()
      const saved = page.waitForResponse(apiMatching(/\/api\/v1\/duty\/shifts\/[^/]+\/people$/, 'PUT'))
      await page.getByTestId('shift-save').click()
      expect((await saved).status()).toBe(200)
      break
    }
    if (month === 0) {
      // None left this month: look at the next one.
      const next = page.waitForResponse(api('/duty/shifts'))
      await page.getByTestId('roster-month-next').click()
      await next
    }
  }
  await signOut(page)
}

test('an officer asks a colleague to cover a shift; she accepts and a leader approves', async ({ page }) => {
  const problems = watchForProblems(page)
  await freeStaffFromAnOfficerShift(page)
  await login(page, 'duty.officer')
  await page.goto('/duty/swaps')
  // One of his future shifts as an officer (a post staff may fill) that staff is not on.
  const row = page
    .getByTestId('my-shifts')
    .locator('tr.el-table__row')
    .filter({ has: page.getByTestId('my-post').getByText(OFFICER_POST, { exact: true }) })
    .filter({ hasNotText: STAFF })
    .filter({ has: page.locator('[data-test="swap-request"]:not([disabled])') })
    .first()
  await expect(row).toBeVisible()
  const when = (await row.locator('td').first().innerText()).trim()
  await row.getByTestId('swap-request').click()
  await page.getByTestId('swap-target').click()
  await page.getByRole('option', { name: new RegExp(STAFF) }).click()
  await page.getByTestId('swap-reason').fill('e2e: family matter')
  const requested = page.waitForResponse(api('/duty/swaps', 'POST'))
  await page.getByTestId('swap-submit').click()
  const request = await requested
  expect(request.status()).toBe(201)
  const swap = await request.json()
  expect(swap.status).toBe('requested')
  await expect(page.getByTestId('swaps-mine')).toContainText(STAFF)
  await signOut(page)

  await login(page, 'staff')
  await page.goto('/duty/swaps')
  const asked = page.getByTestId('swaps-mine').locator('tr.el-table__row').filter({ hasText: OFFICER }).filter({ has: page.getByTestId('swap-accept') }).first()
  await expect(asked).toBeVisible()
  const accepted = page.waitForResponse(apiMatching(new RegExp(`/api/v1/duty/swaps/${swap.id}/accept$`), 'POST'))
  await asked.getByTestId('swap-accept').click()
  expect((await accepted).status()).toBe(200)
  await signOut(page)

  await login(page, 'duty.leader')
  await page.goto('/duty/swaps')
  const waiting = page.getByTestId('swaps-approval').locator('tr.el-table__row').filter({ hasText: OFFICER }).filter({ hasText: STAFF }).first()
  await expect(waiting).toBeVisible()
  const approved = page.waitForResponse(apiMatching(new RegExp(`/api/v1/duty/swaps/${swap.id}/approve$`), 'POST'))
  await waiting.getByTestId('swap-approve').click()
  const approval = await approved
  expect(approval.status()).toBe(200)
  expect((await approval.json()).status).toBe('approved')
  await page.getByTestId('swaps-tab-all').click()
  const done = page.getByTestId('swaps-all').locator('tr.el-table__row').filter({ hasText: OFFICER }).filter({ hasText: STAFF }).first()
  await expect(done.getByTestId('swap-status')).toHaveText('已批准')
  await signOut(page)

  // The officer's list shows it approved, and the shift is no longer his.
  await login(page, 'duty.officer')
  await page.goto('/duty/swaps')
  await expect(page.getByTestId('swaps-mine').locator('tr.el-table__row').filter({ hasText: STAFF }).first().getByTestId('swap-status')).toHaveText('已批准')
  await expect(page.getByTestId('my-shifts')).not.toContainText(when)
  await signOut(page)
  expect(problems).toEqual([])
})

test('the officer on duty checks in', async ({ page }) => {
  const problems = watchForProblems(page)
  await login(page, 'duty.officer')
  const mine = page.waitForResponse(api('/duty/mine'))
  await page.goto('/duty')
  await mine
  await expect(page.getByTestId('on-duty')).toContainText(OFFICER)
  const checkIn = page.getByTestId('check-in')
  await expect(checkIn).toHaveCount(1)
  const checked = page.waitForResponse(apiMatching(/\/api\/v1\/duty\/assignments\/[^/]+\/check-in$/, 'POST'))
  await checkIn.click()
  expect((await checked).status()).toBe(200)
  await expect(page.getByTestId('checked-in')).toBeVisible()
  await expect(page.getByTestId('check-in')).toHaveCount(0)
  await signOut(page)
  expect(problems).toEqual([])
})

test('the officer hands over one open item and the incoming officer acknowledges it', async ({ page }) => {
  const problems = watchForProblems(page)
  const item = `e2e: call back the caller about the chemical spill ${Date.now() % 10000}`
  await login(page, 'duty.officer')
  await page.goto('/duty')
  const form = page.getByTestId('handover-form').first()
  await expect(form).toBeVisible()
  // Start from nothing (the form offers the log's open entries), then write one item.
  const remove = form.getByTestId('handover-item-remove')
  while ((await remove.count()) > 0) await remove.first().click()
  await form.getByTestId('handover-add-item').click()
  await form.getByTestId('handover-item-text').last().fill(item)
  await form.getByTestId('handover-notes').fill('e2e: quiet night otherwise')
  const saved = page.waitForResponse(apiMatching(/\/api\/v1\/duty\/shifts\/[^/]+\/handover$/, 'PUT'))
  await form.getByTestId('handover-save').click()
  const answer = await saved
  expect(answer.status()).toBe(200)
  const handover = await answer.json()
  expect(handover.open_items).toHaveLength(1)
  expect(handover.next_shift_id).toBeTruthy()
  await expect(form.getByTestId('handover-saved')).toBeVisible()
  await signOut(page)

  await login(page, 'staff')
  await page.goto('/duty')
  const incoming = page.getByTestId('handover-incoming').filter({ hasText: item })
  await expect(incoming).toBeVisible()
  const acknowledged = page.waitForResponse(apiMatching(/\/api\/v1\/duty\/shifts\/[^/]+\/handover\/acknowledge$/, 'POST'))
  await incoming.getByTestId('handover-ack').click()
  expect((await acknowledged).status()).toBe(200)
  await expect(incoming.getByTestId('handover-acknowledged')).toBeVisible()
  await signOut(page)
  expect(problems).toEqual([])
})

// The shift's ledger prints as a document of its own, in Chinese whatever the UI language, and
// the picker offers the shift running now (the city's 24-hour shift started this morning or,
// before 08:30, yesterday).
test('the shift ledger prints the running shift as a Chinese document', async ({ page }) => {
  await login(page, 'duty.officer')
  await page.getByTestId('language-switch').click()
  await page.getByTestId('lang-en').click()
  await page.goto('/duty/log')
  await page.getByTestId('log-print').click()
  const checked = page.locator('.shift-choices .el-radio.is-checked')
  await expect(checked).toHaveCount(1)
  await page.getByTestId('log-print-go').click()
  await page.emulateMedia({ media: 'print' })
  const sheet = page.locator('.print-sheet')
  await expect(sheet).toBeVisible()
  await expect(sheet.locator('h1')).toHaveText('值班日志')
  await expect(sheet).toContainText('带班领导')
  await expect(sheet).not.toContainText('Duty Log')
  await expect(page.locator('#app')).toBeHidden()
  await page.emulateMedia({ media: 'screen' })
  await page.getByTestId('language-switch').click()
  await page.getByTestId('lang-zh').click()
})
