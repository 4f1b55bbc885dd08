import { expect, test } from '@playwright/test'
import { signIn } from './helpers'

// Reports up the chain on the demo city: 江南区's duty officer drafts the initial report of an
// accident (built from its facts), writes the measures and submits it; the district's duty
// leader approves it, which numbers and freezes it; the city's desk reads it and prints it as
// an official document.
test('a district drafts, approves and sends a report the city prints', async ({ browser }) => {
  const district = await (await browser.newContext()).newPage()
  const leader = await (await browser.newContext()).newPage()
  const city = await (await browser.newContext()).newPage()
  const title = `仓库货架倒塌事故 ${Date.now() % 100000}`

  await signIn(district, 'jiangnan.officer')
  await expect(district.getByTestId('nav-home')).toBeVisible()
  const made = await district.request.post('/api/v1/incidents', {
    data: {
      kind: 'industry_trade', title, unit: '990102', occurred_at: new Date(Date.now() - 20 * 60000).toISOString(),
      place: '江南区某物流仓库', minor_injuries: 2, description: '仓库货架倒塌，2名搬运工受轻伤。', allow_duplicate: true,
    },
  })
  expect(made.status()).toBe(201)
  const id = (await made.json()).id as string

  await district.goto(`/incidents/${id}`)
  const reports = district.getByTestId('incident-reports')
  await reports.getByTestId('report-new-initial').click()
  await expect(district.getByTestId('report-title')).toHaveValue(`关于${title}的首报`)
  await expect(district.getByTestId('report-section-casualties')).toHaveValue(/2人轻伤/)
  await district.getByTestId('report-section-measures').fill('已组织人员清理现场，伤者送医治疗。')
  await district.getByTestId('report-submit').click()
  await expect(reports.getByTestId('report-list')).toContainText('待审核')

  // The leader is told, and the notification opens the incident.
  await signIn(leader, 'jiangnan.leader')
  await expect(leader.getByTestId('nav-home')).toBeVisible()
  await leader.getByTestId('notifications').click()
  const note = leader.getByTestId('notification-list').locator('li', { hasText: title }).first()
  await expect(note).toContainText('报告待审核')
  await note.click()
  await expect(leader).toHaveURL(new RegExp(`/incidents/${id}$`))
  await leader.getByTestId('report-approve').click()
  await leader.locator('.el-message-box__btns .el-button--primary').click()
  const list = leader.getByTestId('report-list')
  await expect(list).toContainText('已签发')
  await expect(list).toContainText('江南区〔')

  // The whole inbox lists it, read now; the unread filter leaves it out.
  await leader.getByTestId('notifications').click()
  await leader.getByTestId('notifications-all').click()
  await expect(leader).toHaveURL(/\/notifications$/)
  await expect(leader.getByTestId('inbox-table')).toContainText(title)
  await leader.getByTestId('inbox-state').getByText('未读').click()
  await expect(leader.getByTestId('inbox-table')).not.toContainText(title)

  // The district's page follows; the report is frozen for the officer.
  await expect(district.getByTestId('report-list')).toContainText('已签发')
  await district.getByTestId('report-open-initial').click()
  await expect(district.getByTestId('report-submit')).toHaveCount(0)

  // The city reads it and prints it as an official document.
  await signIn(city, 'duty.officer')
  await expect(city.getByTestId('nav-home')).toBeVisible()
  await city.goto(`/incidents/${id}`)
  const href = await city.getByTestId('report-print-initial').getAttribute('href')
  expect(href).toBeTruthy()
  await city.goto(href!)
  const doc = city.getByTestId('report-document')
  await expect(doc).toContainText(`关于${title}的首报`)
  await expect(doc).toContainText('五、已经采取的措施')
  await expect(doc).toContainText('已组织人员清理现场')
  await expect(doc).toContainText('签发人：江南区带班领导')
  await expect(doc.getByTestId('report-doc-number')).toContainText('江南区〔')
  // On paper only the document is printed.
  await city.emulateMedia({ media: 'print' })
  await expect(doc).toBeVisible()
  await expect(city.getByTestId('report-print-now')).toBeHidden()
})
