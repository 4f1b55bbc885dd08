import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { i18n, setLocale } from '@/i18n'
import LoginView from '@/views/org/LoginView.vue'

function respond(status: number, body: unknown) {
  return vi.fn().mockResolvedValue(new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } }))
}

async function mountLogin() {
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/', component: { template: '<div/>' } }, { path: '/login', component: LoginView }] })
  await router.push('/login')
  const wrapper = mount(LoginView, { global: { plugins: [i18n, router, ElementPlus] } })
  await wrapper.get('[data-test="username"]').setValue('duty.officer')
  await wrapper.get('[data-test="password"]').setValue('wrong')
  await wrapper.get('form').trigger('submit')
  await flushPromises()
  return wrapper
}

describe('sign-in page', () => {
  beforeEach(() => setLocale('zh-CN'))
  afterEach(() => vi.unstubAllGlobals())

  it('says how many attempts are left', async () => {
    vi.stubGlobal('fetch', respond(401, { code: 'invalid_credentials', message: 'x', remaining_attempts: 2 }))
    const wrapper = await mountLogin()
    expect(wrapper.get('[data-test="login-error"]').text()).toContain('还可尝试 2 次')
  })

  it('says until when a locked account stays locked', async () => {
    vi.stubGlobal('fetch', respond(423, { code: 'account_locked', message: 'x', locked_until: '2026-03-02T02:00:00Z' }))
    const wrapper = await mountLogin()
    // 02:00 UTC is 10:00 in Beijing.
    expect(wrapper.get('[data-test="login-error"]').text()).toMatch(/已锁定.*10:00/)
  })

  it('sends the credentials as JSON', async () => {
    const fetch = respond(401, { code: 'invalid_credentials', message: 'x', remaining_attempts: 4 })
    vi.stubGlobal('fetch', fetch)
    await mountLogin()
    const request = fetch.mock.calls[0]?.[0] as Request
    expect(new URL(request.url).pathname).toBe('/api/v1/auth/login')
    expect(await request.json()).toEqual({ username: 'duty.officer', password: 'wrong' })
  })
})
