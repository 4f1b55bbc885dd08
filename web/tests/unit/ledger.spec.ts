// The ledger block every list page stands on: paging, search going back to page 1, the error
// state with its retry, the newest load winning, the Excel link, and the filter kept in the
// address (read at start, written by each load, followed when something else changes it).
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus, { ElPagination, ElTableColumn } from 'element-plus'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h, reactive } from 'vue'
import { createMemoryHistory, createRouter, type Router } from 'vue-router'
import { ApiError } from '@/api/client'
import LedgerTable from '@/components/LedgerTable.vue'
import { compact, flag, usePeriod, useLedger, type Compact, type Ledger, type LedgerOptions, type LedgerPage } from '@/composables/useLedger'
import { i18n, setLocale } from '@/i18n'

interface Row { id: number; name: string }
const FILTER = { q: '', unit: null as string | null, expired: false, within: 90 }
type Filter = typeof FILTER
type Fetch = (query: Record<string, unknown>) => Promise<LedgerPage<Row>>

function rows(from: number, count: number): Row[] {
  return Array.from({ length: count }, (_, i) => ({ id: from + i, name: `row ${from + i}` }))
}

async function mountLedger(
  fetch: Fetch,
  { at = '/list', options = {}, alternative = false }: { at?: string; options?: Partial<LedgerOptions<Row, Filter, Compact<Filter>>>; alternative?: boolean } = {},
) {
  let ledger!: Ledger<Row, Filter>
  const Harness = defineComponent({
    setup() {
      ledger = useLedger<Row, Filter>({ filter: { ...FILTER }, fetch, exportPath: '/api/v1/things.xlsx', ...options })
      return () => h(LedgerTable, { ledger, searchTest: 'things-search', exportTest: 'things-export', 'data-test': 'things' }, {
        default: () => h(ElTableColumn, { prop: 'name', label: 'name' }),
        ...(alternative ? { alternative: () => h('div', { 'data-test': 'map' }, 'map') } : {}),
      })
    },
  })
  const router: Router = createRouter({
    history: createMemoryHistory(),
    routes: [{ path: '/list', component: Harness }, { path: '/other', component: { render: () => h('div') } }],
  })
  await router.push(at)
  await router.isReady()
  const wrapper = mount(Harness, { global: { plugins: [i18n, router, ElementPlus] } })
  return { wrapper, ledger, router }
}

function lastQuery(fetch: ReturnType<typeof vi.fn>) {
  return fetch.mock.calls.at(-1)?.[0]
}

describe('ledger', () => {
  beforeEach(() => setLocale('zh-CN'))
  afterEach(() => vi.restoreAllMocks())

  it('loads page 1 with the filter’s set values and shows the rows and the total', async () => {
    const fetch = vi.fn<Fetch>().mockResolvedValue({ items: rows(1, 3), total: 95 })
    const { wrapper, ledger } = await mountLedger(fetch)
    await ledger.load()
    await flushPromises()
    expect(lastQuery(fetch)).toEqual({ expired: false, within: 90, page: 1, per_page: 20 })
    expect(wrapper.get('[data-test="things"]').text()).toContain('row 3')
    expect(wrapper.get('[data-test="ledger-pager"]').text()).toContain('共 95 条')
    expect(wrapper.find('[data-test="ledger-error"]').exists()).toBe(false)
  })

  it('pages, and goes back to page 1 on a search or another page size', async () => {
    const fetch = vi.fn<Fetch>().mockResolvedValue({ items: rows(1, 20), total: 95 })
    const { wrapper, ledger } = await mountLedger(fetch)
    await ledger.load()
    await flushPromises()

    wrapper.getComponent(ElPagination).vm.$emit('update:current-page', 3)
    await flushPromises()
    expect(lastQuery(fetch)).toMatchObject({ page: 3, per_page: 20 })
    expect(ledger.page).toBe(3)

    ledger.filter.q = '  fire '
    await wrapper.get('[data-test="things-search"]').trigger('click')
    await flushPromises()
    expect(lastQuery(fetch)).toMatchObject({ q: 'fire', page: 1, per_page: 20 })
    expect(ledger.page).toBe(1)

    await ledger.goTo(4)
    wrapper.getComponent(ElPagination).vm.$emit('update:page-size', 50)
    await flushPromises()
    expect(lastQuery(fetch)).toMatchObject({ q: 'fire', page: 1, per_page: 50 })
    expect(ledger.page).toBe(1)
  })

  it('offers only the page sizes the endpoint accepts', async () => {
    const fetch = vi.fn<Fetch>().mockResolvedValue({ items: [], total: 0 })
    expect((await mountLedger(fetch)).ledger.pageSizes).toEqual([20, 50, 100, 200])
    expect((await mountLedger(fetch, { options: { maxPerPage: 100 } })).ledger.pageSizes).toEqual([20, 50, 100])
    expect((await mountLedger(fetch, { options: { maxPerPage: 500, perPage: 30 } })).ledger.pageSizes).toEqual([20, 30, 50, 100, 200])
  })

  it('says what went wrong instead of the rows, and retries', async () => {
    const fetch = vi.fn<Fetch>()
      .mockResolvedValueOnce({ items: rows(1, 2), total: 2 })
      .mockRejectedValueOnce(new ApiError(0, undefined))
      .mockResolvedValueOnce({ items: rows(7, 1), total: 1 })
    const { wrapper, ledger } = await mountLedger(fetch)
    await ledger.load()
    await ledger.load()
    await flushPromises()
    expect(ledger.error).toBeInstanceOf(ApiError)
    expect(ledger.items).toEqual([])
    expect(ledger.loading).toBe(false)
    expect(wrapper.get('[data-test="ledger-error"]').text()).toContain('列表加载失败：网络连接失败')
    expect(wrapper.get('[data-test="things"]').text()).not.toContain('row 1')
    expect(wrapper.find('[data-test="ledger-pager"]').exists()).toBe(false)

    await wrapper.get('[data-test="ledger-retry"]').trigger('click')
    await flushPromises()
    expect(fetch).toHaveBeenCalledTimes(3)
    expect(ledger.error).toBeNull()
    expect(wrapper.find('[data-test="ledger-error"]').exists()).toBe(false)
    expect(wrapper.get('[data-test="things"]').text()).toContain('row 7')
    expect(wrapper.get('[data-test="ledger-pager"]').text()).toContain('共 1 条')
  })

  it('leaves the list’s error to the list when another view of the filter shows', async () => {
    const fetch = vi.fn<Fetch>().mockRejectedValue(new ApiError(0, undefined))
    const { wrapper, ledger } = await mountLedger(fetch, { alternative: true })
    await ledger.load()
    await flushPromises()
    expect(ledger.error).toBeInstanceOf(ApiError)
    expect(wrapper.find('[data-test="map"]').exists()).toBe(true)
    expect(wrapper.find('[data-test="ledger-error"]').exists()).toBe(false)
  })

  it('keeps the newest load when an older one answers last', async () => {
    let answerOld!: (page: LedgerPage<Row>) => void
    const fetch = vi.fn<Fetch>()
      .mockReturnValueOnce(new Promise((resolve) => (answerOld = resolve)))
      .mockResolvedValueOnce({ items: rows(50, 1), total: 1 })
    const { ledger } = await mountLedger(fetch)
    const old = ledger.load()
    await ledger.search()
    answerOld({ items: rows(1, 20), total: 95 })
    await old
    expect(ledger.items.map((r) => r.id)).toEqual([50])
    expect(ledger.total).toBe(1)
    expect(ledger.loading).toBe(false)
  })

  it('links the Excel export to the same filter in the user’s language', async () => {
    const fetch = vi.fn<Fetch>().mockResolvedValue({ items: [], total: 0 })
    const { wrapper, ledger } = await mountLedger(fetch)
    ledger.filter.q = 'gas'
    setLocale('en')
    await flushPromises()
    const href = wrapper.get('[data-test="things-export"]').attributes('href') ?? ''
    const url = new URL(href, 'http://x')
    expect(url.pathname).toBe('/api/v1/things.xlsx')
    expect(Object.fromEntries(url.searchParams)).toEqual({ q: 'gas', expired: 'false', within: '90', lang: 'en' })
    expect(wrapper.get('[data-test="ledger-pager"]').text()).toContain('0 in all')

    const { wrapper: plain } = await mountLedger(fetch, { options: { exportPath: undefined } })
    expect(plain.find('[data-test="things-export"]').exists()).toBe(false)
  })

  it('reads the filter and page from the address and writes them back, leaving other keys alone', async () => {
    const fetch = vi.fn<Fetch>().mockResolvedValue({ items: rows(1, 20), total: 95 })
    const { ledger, router } = await mountLedger(fetch, { at: '/list?q=gas&page=3&per_page=1000&expired=1&within=abc&from_log=x' })
    expect(ledger.filter).toEqual({ q: 'gas', unit: null, expired: true, within: 90 })
    await ledger.load()
    await flushPromises()
    expect(lastQuery(fetch)).toEqual({ q: 'gas', expired: true, within: 90, page: 3, per_page: 20 })
    // What the address could not say (a page size the server refuses, a number that is none) is dropped.
    expect(router.currentRoute.value.query).toEqual({ from_log: 'x', q: 'gas', expired: '1', page: '3' })

    ledger.filter.unit = 'U1'
    await ledger.search()
    await flushPromises()
    expect(router.currentRoute.value.query).toEqual({ from_log: 'x', q: 'gas', expired: '1', unit: 'U1' })

    // Something else changes the address (the search box's "see all"): the list follows.
    await router.push('/list?q=oil')
    await flushPromises()
    expect(ledger.filter).toEqual({ q: 'oil', unit: null, expired: false, within: 90 })
    expect(lastQuery(fetch)).toEqual({ q: 'oil', expired: false, within: 90, page: 1, per_page: 20 })

    // Leaving the list does not load it again.
    const calls = fetch.mock.calls.length
    await router.push('/other?q=elsewhere')
    await flushPromises()
    expect(fetch.mock.calls.length).toBe(calls)
  })

  it('leaves an address with nothing of its own as it is', async () => {
    const fetch = vi.fn<Fetch>().mockResolvedValue({ items: [], total: 0 })
    const { ledger, router } = await mountLedger(fetch, { at: '/list?from_log=x' })
    const replace = vi.spyOn(router, 'replace')
    await ledger.load()
    await flushPromises()
    expect(replace).not.toHaveBeenCalled()
    expect(router.currentRoute.value.fullPath).toBe('/list?from_log=x')
  })

  it('keeps out of the address when told to', async () => {
    const fetch = vi.fn<Fetch>().mockResolvedValue({ items: [], total: 0 })
    const { ledger, router } = await mountLedger(fetch, { at: '/list?q=gas', options: { route: false } })
    expect(ledger.filter.q).toBe('')
    ledger.filter.q = 'oil'
    await ledger.search()
    await flushPromises()
    expect(router.currentRoute.value.fullPath).toBe('/list?q=gas')
  })

  it('lets the page take the search button for another view', async () => {
    const fetch = vi.fn<Fetch>().mockResolvedValue({ items: [], total: 0 })
    const onSearch = vi.fn()
    let ledger!: Ledger<Row, Filter>
    const Harness = defineComponent({
      setup() {
        ledger = useLedger<Row, Filter>({ filter: { ...FILTER }, fetch, route: false })
        return () => h(LedgerTable, { ledger, onSearch }, { alternative: () => h('div', { 'data-test': 'map' }) })
      },
    })
    const wrapper = mount(Harness, { global: { plugins: [i18n, ElementPlus] } })
    await wrapper.get('[data-test="ledger-search"]').trigger('click')
    expect(onSearch).toHaveBeenCalledTimes(1)
    expect(fetch).not.toHaveBeenCalled()
    expect(wrapper.find('[data-test="map"]').exists()).toBe(true)
    expect(wrapper.find('.el-table').exists()).toBe(false)
    expect(wrapper.find('[data-test="ledger-pager"]').exists()).toBe(false)
  })
})

describe('ledger helpers', () => {
  it('compact drops unset values and trims text', () => {
    expect(compact({ q: ' a ', unit: null, kind: '', expired: false, within: 0, none: undefined })).toEqual({ q: 'a', expired: false, within: 0 })
  })

  it('flag reads a yes/no/either select', () => {
    expect([flag('true'), flag('false'), flag(''), flag(null), flag(undefined)]).toEqual([true, false, undefined, undefined, undefined])
  })

  it('usePeriod keeps a picked range as ISO strings, and clears them', () => {
    const filter = reactive({ from: '', to: '' })
    const period = usePeriod(filter)
    expect(period.value).toBeNull()
    period.value = [new Date('2026-03-01T00:00:00Z'), new Date('2026-03-02T12:00:00Z')]
    expect(filter).toEqual({ from: '2026-03-01T00:00:00.000Z', to: '2026-03-02T12:00:00.000Z' })
    expect(period.value?.[1].toISOString()).toBe('2026-03-02T12:00:00.000Z')
    period.value = null
    expect(filter).toEqual({ from: '', to: '' })
  })
})
