import { expect, test } from '@playwright/test'
import { signIn, signOut, watchForProblems } from './helpers'

// A system administrator signs in, switches language, creates a district and a user; the audit
// administrator then finds the record of it; both sign out.
test('sign in, switch language, create a district and a user, see the audit record, sign out', async ({ page }) => {
  const problems = watchForProblems(page)
  const suffix = Date.now().toString().slice(-5)
  const district = `测试新区${suffix}`
  const username = `e2e.user${suffix}`

  await signIn(page, 'sysadmin')
  await expect(page.getByTestId('nav-units')).toHaveText('单位管理')

  // Switch to English: every label follows.
  await page.getByTestId('language-switch').click()
  await page.getByTestId('lang-en').click()
  await expect(page.getByTestId('nav-units')).toHaveText('Units')
  await expect(page.getByTestId('nav-users')).toHaveText('Users')

  // Create a district under the city.
  await page.getByTestId('nav-units').click()
  await expect(page.getByTestId('unit-tree')).toContainText('临江市')
  await page.getByTestId('unit-tree').locator('.el-tree-node__content', { hasText: '990100' }).first().click()
  await page.getByTestId('add-child').click()
  // Demo districts use 990102–990181 but none of 990150–990179.
  await page.getByTestId('child-code').fill(`9901${50 + (Number(suffix) % 30)}`)
  await page.getByTestId('child-name').fill(district)
  await page.getByTestId('child-save').click()
  await expect(page.getByTestId('unit-tree')).toContainText(district)
  await page.screenshot({ path: 'test-results/units.png' })

  // Create a user in it.
  await page.getByTestId('nav-users').click()
  await page.getByTestId('new-user').click()
  await page.getByTestId('user-username').fill(username)
  await page.getByTestId('user-display-name').fill('测试用户')
  await page.getByTestId('user-unit').locator('.el-select__wrapper').click()
  await page.locator('.el-tree-select__popper').filter({ visible: true }).getByText(district, { exact: true }).click()
  await page.getByTestId('user-roles').getByText('Duty officer').click()
  await page.getByTestId('user-password').fill('Initial-Pass-1')
  await page.getByTestId('user-save').click()
  // The demo has hundreds of duty people: find the new account by name.
  await page.getByTestId('user-search').fill(username)
  await page.getByTestId('user-search').press('Enter')
  await expect(page.getByTestId('user-table')).toContainText(username)

  await signOut(page)

  // The new user must choose their own password before anything else.
  await signIn(page, username, 'Initial-Pass-1')
  await expect(page).toHaveURL(/\/password/)
  await page.getByTestId('current-password').fill('Initial-Pass-1')
  await page.getByTestId('new-password').fill('Chosen-Pass-22')
  await page.getByTestId('repeat-password').fill('Chosen-Pass-22')
  await page.getByTestId('change-password').click()
  await expect(page.getByTestId('nav-home')).toBeVisible()
  await expect(page.getByTestId('user-menu')).toContainText('测试用户')
  await signOut(page)

  // The audit administrator sees the record of the new district.
  await signIn(page, 'auditor')
  await page.getByTestId('nav-audit').click()
  // People by their names, never their login names.
  await expect(page.getByTestId('audit-table')).toContainText('系统管理员 (临江市)')
  await expect(page.getByTestId('audit-table')).not.toContainText('sysadmin')
  await page.getByTestId('audit-action').click()
  await page.getByRole('option', { name: /unit\.create\)/ }).click()
  await page.getByTestId('audit-search').click()
  await expect(page.getByTestId('audit-table')).toContainText('Unit created')
  await expect(page.getByTestId('audit-table')).toContainText(district)
  // The change itself, field by field.
  await page.getByTestId('audit-table').locator('.el-table__expand-icon').first().click()
  const detail = page.getByTestId('audit-detail').filter({ hasText: district })
  await expect(detail).toContainText('After')
  await expect(detail).toContainText('Parent unit')
  await page.getByTestId('verify-chain').click()
  await expect(page.getByText(/The audit chain is intact/)).toBeVisible()
  await signOut(page)

  expect(problems).toEqual([])
})

test('five wrong passwords lock the account, even against the right one', async ({ page }) => {
  const problems = watchForProblems(page)
  await page.goto('/login')
  // This test runs in Chinese whatever the previous test chose.
  await page.evaluate(() => localStorage.setItem('beacon.locale', 'zh-CN'))
  for (let attempt = 1; attempt <= 4; attempt++) {
    await signIn(page, 'viewer', 'Wrong-Password-9')
    await expect(page.getByTestId('login-error')).toContainText(`还可尝试 ${5 - attempt} 次`)
  }
  await signIn(page, 'viewer', 'Wrong-Password-9')
  await expect(page.getByTestId('login-error')).toContainText('账号因多次登录失败已锁定')
  await signIn(page, 'viewer')
  await expect(page.getByTestId('login-error')).toContainText('账号因多次登录失败已锁定')
  await expect(page).toHaveURL(/\/login/)

  // The security administrator sees the lock and lifts it; the viewer gets in.
  await signIn(page, 'secadmin')
  await page.getByTestId('nav-security').click()
  await expect(page.getByTestId('locks')).toContainText('viewer')
  await page.getByTestId('locks').getByRole('button', { name: '解锁' }).first().click()
  await page.getByRole('button', { name: /确定|OK/ }).click()
  await expect(page.getByTestId('locks')).not.toContainText('viewer')
  await signOut(page)
  await signIn(page, 'viewer')
  await expect(page.getByTestId('nav-home')).toBeVisible()
  await signOut(page)

  expect(problems).toEqual([])
})

test('the API documentation is served from the binary under the strict CSP', async ({ page }) => {
  const problems = watchForProblems(page)
  await page.goto('/api/docs')
  await expect(page.getByText('Beacon API').first()).toBeVisible()
  await expect(page.getByText('/api/v1/auth/login').first()).toBeVisible()
  expect(problems).toEqual([])
})
