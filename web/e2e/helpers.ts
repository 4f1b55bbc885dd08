import { expect, type Page } from '@playwright/test'

/** The demo users' password (crates/beacon/src/demo.rs). */
export const DEMO_PASSWORD = 'Beacon@2026'

export async function signIn(page: Page, username: string, password = DEMO_PASSWORD) {
  await page.goto('/login')
  await page.getByTestId('username').fill(username)
  await page.getByTestId('password').fill(password)
  await page.getByTestId('sign-in').click()
}

export async function signOut(page: Page) {
  // The user menu is a dropdown that can still be opening (or re-rendering under a live event)
  // when the click lands; try again until the sign-in page shows.
  await expect(async () => {
    if (/\/login/.test(page.url())) return
    await page.getByTestId('user-menu').click()
    await page.getByTestId('logout').click({ timeout: 2000 })
    await expect(page).toHaveURL(/\/login/, { timeout: 3000 })
  }).toPass({ timeout: 20000 })
}

/** Collects Content-Security-Policy violations and page errors, which must stay empty. */
export function watchForProblems(page: Page): string[] {
  const problems: string[] = []
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/.test(message.text())) {
      problems.push(`console: ${message.text()}`)
    }
  })
  return problems
}

/** Signs the demo inspector in and opens the one enterprise a fragment of its name finds. */
export async function openAsInspector(page: Page, fragment: string, fullName: string) {
  await signIn(page, 'inspector')
  await expect(page.getByTestId('nav-home')).toBeVisible()
  await page.goto('/enterprises')
  await page.getByTestId('enterprise-search').fill(fragment)
  await page.getByTestId('enterprise-search').press('Enter')
  const rows = page.getByTestId('enterprise-table').locator('tbody tr')
  await expect(rows).toHaveCount(1)
  await rows.first().click()
  await expect(page.getByTestId('enterprise-title')).toContainText(fullName)
}
