import { expect, test, type Page } from '@playwright/test'
import { openAsInspector, signIn, signOut, watchForProblems } from './helpers'
import { png } from './png'
import { xlsx } from './xlsx'

// A major hidden danger through the browser, on the demo's 临江港华化工有限公司: the city's
// inspector records it from the enterprise's page; the enterprise's own account submits the
// treatment plan with its five implementations; the inspector approves it and lists it for
// supervision at city level (it shows on the board); the enterprise reports the fix with a
// photo after; the inspector fails the first acceptance with a reason, then passes the second,
// which closes it off the ledger (销号) with the inspector's name.

/** A Beijing date `days` from today, as the date pickers take it. */
function dateIn(days: number): string {
  const beijing = new Date(Date.now() + 8 * 3600_000 + days * 86_400_000)
  return beijing.toISOString().slice(0, 10)
}

/** Types a date into the date picker labelled `label`. */
async function setDate(page: Page, label: string, value: string) {
  const input = page.getByRole('combobox', { name: label })
  await input.fill(value)
  await input.press('Enter')
}

/** Answers the open prompt with a text and confirms it. */
async function answer(page: Page, text: string | null) {
  const box = page.locator('.el-message-box')
  await expect(box).toBeVisible()
  if (text !== null) await box.locator('textarea, input').first().fill(text)
  await box.locator('.el-message-box__btns .el-button--primary').click()
  await expect(box).toBeHidden()
}

async function step(page: Page, testId: string, text: string | null, state: string) {
  const done = page.waitForResponse((r) => r.request().method() === 'POST' && /\/api\/v1\/hazards\//.test(r.url()))
  await page.getByTestId(testId).click()
  if (text !== null || testId === 'step-accept' || testId === 'step-list') await answer(page, text)
  expect((await done).status()).toBe(200)
  await expect(page.getByTestId('danger-state')).toHaveText(state)
}

test('a major hidden danger goes from record through plan, listing and acceptance to 销号', async ({ page }) => {
  test.setTimeout(120_000)
  const problems = watchForProblems(page)
  await openAsInspector(page, '港华化工', '临江港华化工有限公司')

  // Recorded from the enterprise's page, it opens on its own page awaiting a plan.
  const what = `液氯储存库泄漏检测报警失效 ${Date.now() % 100000}`
  await page.getByTestId('enterprise-record-danger').click()
  const form = page.getByTestId('danger-form')
  await expect(form).toBeVisible()
  await form.getByTestId('danger-level-major').click()
  await form.getByTestId('danger-place').fill('液氯储存库')
  await form.getByTestId('danger-description').fill(what)
  await setDate(page, '*整改期限', dateIn(30))
  // A major one needs its criterion: the form says so and keeps what was typed.
  await form.getByTestId('danger-save').click()
  await expect(form.locator('.el-form-item__error')).toContainText('必填')
  await form.getByTestId('danger-criterion').fill('安监总管三〔2017〕121号 第十二项')
  await form.getByTestId('danger-save').click()
  await expect(page).toHaveURL(/\/hazards\/[0-9a-f-]+$/)
  const url = page.url()
  await expect(page.getByTestId('danger-description')).toHaveText(what)
  await expect(page.getByTestId('danger-state')).toHaveText('待报治理方案')
  const number = ((await page.getByTestId('danger-title').innerText()).match(/YH-[\w-]+/) ?? [''])[0]
  expect(number).toMatch(/^YH-/)
  await signOut(page)

  // The enterprise submits its treatment plan; it cannot approve it itself.
  await signIn(page, 'enterprise')
  await expect(page.getByTestId('nav-home')).toBeVisible()
  await page.goto(url)
  await page.getByTestId('step-plan').click()
  const plan = page.getByTestId('plan-form')
  await plan.getByTestId('plan-measures').fill('停用液氯储存库，更换泄漏检测报警仪并与喷淋吸收装置联锁')
  await plan.getByTestId('plan-responsible').fill('吴安全员')
  await plan.getByTestId('plan-funds').locator('input').fill('86000')
  await plan.getByTestId('plan-contingency').fill('液氯泄漏现场处置方案，每班巡检两次')
  await plan.getByTestId('plan-suspension-partial').click()
  const submitted = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/plan'))
  await plan.getByTestId('plan-save').click()
  expect((await submitted).status()).toBe(200)
  await expect(page.getByTestId('danger-state')).toHaveText('方案待审核')
  await expect(page.getByTestId('danger-plan')).toContainText('86,000.00')
  await expect(page.getByTestId('step-approve-plan')).toHaveCount(0)
  await signOut(page)

  // The inspector approves the plan and lists it at city level: it is on the board.
  await signIn(page, 'inspector')
  await expect(page.getByTestId('nav-home')).toBeVisible()
  await page.goto(url)
  await step(page, 'step-approve-plan', null, '整改中')
  await step(page, 'step-list', null, '整改中')
  await expect(page.getByTestId('danger-listed')).toHaveText('市级挂牌督办')
  await page.goto('/hazards/board')
  await expect(page.getByTestId('board-city').getByTestId('board-item').filter({ hasText: what })).toBeVisible()
  await signOut(page)

  // The enterprise reports progress, then the fix with a photo after.
  await signIn(page, 'enterprise')
  await expect(page.getByTestId('nav-home')).toBeVisible()
  await page.goto(url)
  await step(page, 'step-progress', '报警仪已到货，正在安装', '整改中')
  const after = page.getByTestId('danger-fix-photos')
  const uploaded = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/v1/attachments')
  await after.getByTestId('attachment-input').setInputFiles({ name: '整改后.png', mimeType: 'image/png', buffer: png(64, 48) })
  expect((await uploaded).status()).toBe(201)
  await expect(after.getByTestId('attachment-thumbnail')).toBeVisible()
  await step(page, 'step-fix', '报警仪已更换并完成联锁测试', '待验收')
  await expect(page.getByTestId('step-accept')).toHaveCount(0)
  await signOut(page)

  // The inspector fails the first acceptance with a reason, then closes it off the ledger.
  await signIn(page, 'inspector')
  await expect(page.getByTestId('nav-home')).toBeVisible()
  await page.goto(url)
  await step(page, 'step-fail', '联锁测试记录未签字', '整改中')
  await signOut(page)
  await signIn(page, 'enterprise')
  await expect(page.getByTestId('nav-home')).toBeVisible()
  await page.goto(url)
  await step(page, 'step-fix', '测试记录已补签', '待验收')
  await signOut(page)
  await signIn(page, 'inspector')
  await expect(page.getByTestId('nav-home')).toBeVisible()
  await page.goto(url)
  await step(page, 'step-accept', null, '已销号')
  await expect(page.getByTestId('danger-closed-by')).toContainText('陈检查')
  await expect(page.getByTestId('step-fix')).toHaveCount(0)
  const history = page.getByTestId('danger-history')
  for (const kind of ['登记隐患', '提交治理方案', '方案审核通过', '挂牌督办', '上传照片', '验收不通过', '验收通过并销号']) {
    await expect(history).toContainText(kind)
  }
  // In the ledger, closed, and no longer on the board.
  await page.goto('/hazards?show=all&status=closed&level=major')
  await expect(page.getByTestId('danger-ledger').locator('tr', { hasText: number })).toContainText('已销号')
  await page.goto('/hazards/board')
  await expect(page.getByTestId('board-city')).not.toContainText(what)
  expect(problems).toEqual([])
})

test('an inspector records an inspection in the field and a finding becomes a hidden danger', async ({ page }) => {
  test.setTimeout(90_000)
  const problems = watchForProblems(page)
  await openAsInspector(page, '港华化工', '临江港华化工有限公司')
  await page.getByTestId('enterprise-inspect').click()
  const form = page.getByTestId('inspection-form')
  await expect(form).toBeVisible()
  // The enterprise comes from its page; the signed-in inspector is the first of the people.
  await expect(form.getByTestId('inspection-enterprise')).toContainText('临江港华化工有限公司')
  await expect(form.getByTestId('inspection-inspectors')).toContainText('陈检查')
  const what = `液氯罐区未设置有毒气体检测报警装置 ${Date.now() % 100000}`
  await form.getByTestId('inspection-checklist').click()
  await page.locator('.el-select-dropdown:visible .el-select-dropdown__item', { hasText: '化工和危险化学品' }).click()
  await expect(page.locator('.el-select-dropdown:visible')).toHaveCount(0)
  await form.getByTestId('finding-item').click()
  await page.locator('.el-select-dropdown:visible .el-select-dropdown__item', { hasText: '第十二项' }).click()
  await form.getByTestId('finding-place').fill('液氯罐区')
  await form.getByTestId('finding-description').fill(what)
  await form.getByTestId('inspection-signatory').fill('吴安全员')
  // One inspector is not enough for law enforcement: the form says so.
  await form.getByTestId('inspection-save').click()
  await expect(form.locator('.el-form-item__error').first()).toContainText('两名以上')
  const people = form.getByTestId('inspection-inspectors')
  await people.click()
  await people.locator('input').pressSequentially('周执法')
  await page.locator('.el-select-dropdown:visible .el-select-dropdown__item', { hasText: '周执法' }).click()
  await expect(people.locator('.el-tag')).toHaveCount(2)
  await form.getByTestId('inspection-save').click()

  // On its page: the finding is major by its item; one action makes it a hidden danger.
  await expect(page.getByTestId('inspection-title')).toContainText('JC-')
  await expect(page.getByTestId('inspection-inspectors')).toHaveText('陈检查、周执法')
  const row = page.getByTestId('finding-table').locator('tr', { hasText: what })
  await expect(row).toContainText('重大隐患')
  await row.getByTestId('finding-to-danger').click()
  const made = page.waitForResponse((r) => r.request().method() === 'POST' && /\/hazard$/.test(r.url()))
  await page.getByTestId('finding-danger-save').click()
  expect((await made).status()).toBe(200)
  await row.getByTestId('finding-danger').click()
  await expect(page.getByTestId('danger-description')).toHaveText(what)
  await expect(page.getByTestId('danger-state')).toHaveText('待报治理方案')
  await expect(page.getByTestId('danger-history')).toContainText('由检查发现转入')

  // The printable record names the enterprise.
  await page.goBack()
  await expect(page.getByTestId('inspection-title')).toBeVisible()
  await page.goto(page.url() + '/print')
  await expect(page.getByTestId('record-enterprise')).toHaveText('临江港华化工有限公司')
  expect(problems).toEqual([])
})

test('an inspector imports an office ledger and finds its hidden dangers on the ledger and the map', async ({ page }) => {
  const problems = watchForProblems(page)
  await signIn(page, 'inspector')
  await expect(page.getByTestId('nav-home')).toBeVisible()
  const found = await (await page.request.get('/api/v1/enterprises?q=临江港华化工')).json()
  const uscc = found.items[0].uscc as string
  await page.goto('/hazards')
  await page.getByTestId('danger-import').click()
  await expect(page).toHaveURL(/\/hazards\/import$/)
  await expect(page.getByTestId('danger-import-hint')).toBeVisible()

  // The office's own sheet: a title row, its own header words; one good row, one without its date.
  const number = `老台账-${Date.now() % 100000}`
  const file = xlsx([
    ['临江港华化工隐患排查治理台账'],
    ['隐患编号', '统一社会信用代码', '隐患等级', '隐患类别', '来源', '隐患部位', '隐患描述', '排查日期', '整改期限', '整改状态'],
    [number, uscc, '一般', '现场管理类', '企业自查', '三号仓库', '导入的隐患：仓库货物堆放超高', dateIn(-5), dateIn(20), '整改中'],
    [`${number}-2`, uscc, '一般', '现场管理类', '企业自查', '三号仓库', '没有发现日期', '', dateIn(20), '整改中'],
  ])
  await page.locator('.el-upload input[type=file]').setInputFiles({ name: '港华隐患台账.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', buffer: file })
  await expect(page.getByTestId('import-status')).toHaveText('已预检', { timeout: 30_000 })
  const table = page.getByTestId('import-problems')
  await expect(table.locator('tbody tr')).toHaveCount(1)
  await expect(table).toContainText('发现日期')
  await page.getByTestId('import-commit').click()
  await page.locator('.el-message-box').getByRole('button', { name: /确定|OK/ }).click()
  await expect(page.getByTestId('import-status')).toHaveText('已导入', { timeout: 30_000 })

  // On the ledger with its old number and its timeline; then on the dashboard's map.
  await page.getByTestId('import-done').click()
  await expect(page).toHaveURL(/\/hazards$/)
  const ledger = await (await page.request.get(`/api/v1/hazards?enterprise=${found.items[0].id}&per_page=200`)).json()
  const imported = ledger.items.find((d: { source_number: string }) => d.source_number === number)
  expect(imported.number).toMatch(/^YH-/)
  await page.goto(`/hazards/${imported.id}`)
  await expect(page.getByTestId('danger-source-number')).toHaveText(number)
  await expect(page.getByTestId('danger-state')).toHaveText('整改中')
  await expect(page.getByTestId('danger-history')).toContainText('从原台账导入')
  await page.goto('/hazards/stats')
  await expect(page.getByTestId('danger-map').locator('.leaflet-interactive').first()).toBeVisible()
  await expect(page.getByTestId('danger-map-counts')).toContainText('家企业有未销号隐患')
  expect(problems).toEqual([])
})
