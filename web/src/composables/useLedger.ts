// A ledger: a paged list the server filters (the audit trail, the duty log, incidents, users,
// the inbox, the register, licences, and the hidden-danger, inspection… ledgers to come). One
// place holds what every such page did by hand: the filter, page and page size, loading and the
// error of the last load, "search" going back to page 1, the Excel link for the same filter, and
// the filter kept in the address so a reload or "back" from a record finds the list as it was.
// `components/LedgerTable.vue` draws it.
import { computed, inject, reactive, ref, shallowRef, watch, type WritableComputedRef } from 'vue'
import { routeLocationKey, routerKey, type LocationQuery } from 'vue-router'
import { currentLocale } from '@/i18n'
import { workbookUrl } from '@/utils/export'

/** A filter field's value. The default's type is the field's type when it is read back from
 * the address: a string (or `null`: a string or nothing), a number or a boolean. */
export type FilterValue = string | number | boolean | null
export type FilterModel = Record<string, FilterValue>
export type QueryValue = string | number | boolean | null | undefined
export type ServerQuery = Record<string, QueryValue>
// Type aliases rather than interfaces, so they fit an index signature (`Record<string, …>`).
export type Paging = { page: number; per_page: number }
export interface LedgerPage<Row> { items: Row[]; total: number }

/** The filter's set values, strings trimmed: what most list endpoints take as they are. */
export type Compact<F> = { [K in keyof F]?: Exclude<F[K], '' | null> }

/** As the server's `beacon_core::page::MAX_PER_PAGE` and `DEFAULT_PER_PAGE`. */
export const MAX_PER_PAGE = 200
export const DEFAULT_PER_PAGE = 20
const PAGE_SIZES = [20, 50, 100, 200]
/** The highest page number the server accepts (`PageRequest::parse`). */
const MAX_PAGE = 1_000_000
/** The servers refuse a filter's text longer than this (`too_long`); one from the address is cut. */
const MAX_TEXT = 64

export interface LedgerOptions<Row, F extends FilterModel, Q extends ServerQuery> {
  /** The filter fields and their defaults; the ledger returns them as `filter`, reactive. */
  filter: F
  /** The server's query for a filter; by default its set values (`compact`). */
  query?: (filter: F) => Q
  /** One page from the server: the query plus `page` and `per_page`. */
  fetch: (query: Q & Paging) => Promise<LedgerPage<Row>>
  /** The `.xlsx` endpoint taking the same query, when the ledger exports. */
  exportPath?: string
  /** Rows per page at first (default 20). */
  perPage?: number
  /** The endpoint's `per_page` maximum, when below the usual 200. */
  maxPerPage?: number
  /** Keeps the filter, page and page size in the address (default on). One ledger per page:
   * the filter's field names are the address's keys; other keys of the address are left alone. */
  route?: boolean
}

/** What `LedgerTable` draws: any ledger, whatever its rows and filter. */
export interface LedgerState {
  readonly items: unknown[]
  readonly total: number
  readonly loading: boolean
  /** The last load's error (null once a load succeeds); the rows are then empty. */
  readonly error: unknown
  readonly page: number
  readonly per_page: number
  /** The page sizes offered: those the endpoint accepts. */
  readonly pageSizes: number[]
  /** The Excel link for the current filter, or null when the ledger does not export. */
  readonly exportUrl: string | null
  /** Loads the current page; a newer load wins over one still running. */
  load(): Promise<void>
  /** Loads page 1 of the current filter. */
  search(): Promise<void>
  goTo(page: number): Promise<void>
  /** Another page size, from page 1. */
  resize(perPage: number): Promise<void>
}

/** A ledger. It is reactive: read its fields as `ledger.items`, do not destructure them
 * (`filter` is an object and may be taken out: `const { filter } = ledger`). */
export interface Ledger<Row, F extends FilterModel> extends LedgerState {
  readonly items: Row[]
  readonly filter: F
}

/** The filter's set values: empty strings, `null` and `undefined` dropped, strings trimmed. */
export function compact<F extends Record<string, unknown>>(filter: F): Compact<F> {
  const out: Record<string, unknown> = {}
  for (const [key, raw] of Object.entries(filter)) {
    const value = typeof raw === 'string' ? raw.trim() : raw
    if (value !== '' && value !== null && value !== undefined) out[key] = value
  }
  return out as Compact<F>
}

/** A yes/no/either select (`'' | 'true' | 'false'`) as the server's optional boolean. */
export function flag(value: string | null | undefined): boolean | undefined {
  return value === 'true' ? true : value === 'false' ? false : undefined
}

/** A date-time range picker's model over a ledger's `filter.from` and `filter.to` (ISO strings,
 * so they go to the server and into the address as they are). */
export function usePeriod(filter: { from: string; to: string }): WritableComputedRef<[Date, Date] | null> {
  return computed({
    get: (): [Date, Date] | null => (filter.from && filter.to ? [new Date(filter.from), new Date(filter.to)] : null),
    set: (range: [Date, Date] | null) => {
      filter.from = range ? range[0].toISOString() : ''
      filter.to = range ? range[1].toISOString() : ''
    },
  })
}

/** A list page's state and loading; call in a component's `setup`, then `load()` when mounted. */
export function useLedger<Row, F extends FilterModel, Q extends ServerQuery = Compact<F>>(
  options: LedgerOptions<Row, F, Q>,
): Ledger<Row, F> {
  const defaults = { ...options.filter }
  const filter = reactive({ ...defaults }) as F
  const toQuery = options.query ?? ((f: F) => compact(f) as unknown as Q)
  const max = Math.min(options.maxPerPage ?? MAX_PER_PAGE, MAX_PER_PAGE)
  const firstSize = Math.min(options.perPage ?? DEFAULT_PER_PAGE, max)
  const pageSizes = [...new Set([...PAGE_SIZES.filter((s) => s <= max), firstSize])].sort((a, b) => a - b)

  const items = ref<Row[]>([])
  const total = ref(0)
  const loading = ref(false)
  const error = shallowRef<unknown>(null)
  const page = ref(1)
  const perPage = ref(firstSize)
  const exportUrl = computed(() => (options.exportPath ? workbookUrl(options.exportPath, toQuery(filter), currentLocale()) : null))

  const address = options.route === false ? null : addressSync()

  let latest = 0
  async function load(): Promise<void> {
    const mine = ++latest
    address?.write()
    loading.value = true
    try {
      const result = await options.fetch({ ...toQuery(filter), page: page.value, per_page: perPage.value })
      if (mine !== latest) return
      items.value = result.items
      total.value = result.total
      error.value = null
    } catch (failure) {
      if (mine !== latest) return
      items.value = []
      total.value = 0
      error.value = failure
    } finally {
      if (mine === latest) loading.value = false
    }
  }

  function search(): Promise<void> {
    page.value = 1
    return load()
  }

  function goTo(next: number): Promise<void> {
    page.value = next
    return load()
  }

  function resize(size: number): Promise<void> {
    perPage.value = size
    page.value = 1
    return load()
  }

  /** The address's side: read once at set-up, written by each load (replacing the history
   * entry, so "back" leaves the list rather than stepping through its searches), and read again
   * when something else changes it (the search box's "see all" while the list is open). */
  function addressSync() {
    const router = inject(routerKey, null)
    const route = inject(routeLocationKey, null)
    if (!router || !route) return null
    const keys = [...Object.keys(defaults), 'page', 'per_page']
    const home = route.path

    function encode(): Record<string, string> {
      const out: Record<string, string> = {}
      for (const [key, base] of Object.entries(defaults)) {
        const text = encodeValue(filter[key])
        if (text !== undefined && text !== encodeValue(base)) out[key] = text
      }
      if (page.value !== 1) out.page = String(page.value)
      if (perPage.value !== firstSize) out.per_page = String(perPage.value)
      return out
    }

    function owned(query: LocationQuery): Record<string, string> {
      const out: Record<string, string> = {}
      for (const key of keys) {
        const value = first(query[key])
        if (value !== undefined) out[key] = value
      }
      return out
    }

    function apply(query: LocationQuery) {
      const f = filter as FilterModel
      for (const [key, base] of Object.entries(defaults)) f[key] = decodeValue(first(query[key]), base)
      const p = Number(first(query.page))
      page.value = Number.isInteger(p) && p >= 1 && p <= MAX_PAGE ? p : 1
      const size = Number(first(query.per_page))
      perPage.value = pageSizes.includes(size) ? size : firstSize
    }

    apply(route.query)
    let synced = same(owned(route.query))

    watch(() => route.query, (query) => {
      if (route.path !== home) return
      const incoming = same(owned(query))
      if (incoming === synced) return
      synced = incoming
      apply(query)
      void load()
    })

    return {
      write() {
        // A reload the page started (a live event) may land after the user has left.
        if (route.path !== home) return
        const next = encode()
        synced = same(next)
        if (synced === same(owned(route.query))) return
        const others = Object.fromEntries(Object.entries(route.query).filter(([key]) => !keys.includes(key)))
        void router.replace({ path: route.path, query: { ...others, ...next }, hash: route.hash })
      },
    }
  }

  return reactive({
    items, total, loading, error, page, per_page: perPage, pageSizes, exportUrl, filter,
    load, search, goTo, resize,
  }) as unknown as Ledger<Row, F>
}

function first(value: LocationQuery[string] | undefined): string | undefined {
  const one = Array.isArray(value) ? value[0] : value
  return one ?? undefined
}

/** An address's keys in one order, to compare two of them. */
function same(query: Record<string, string>): string {
  return JSON.stringify(Object.keys(query).sort().map((key) => [key, query[key]]))
}

function encodeValue(value: FilterValue | undefined): string | undefined {
  if (value === null || value === undefined || value === '') return undefined
  if (typeof value === 'boolean') return value ? '1' : '0'
  return String(value)
}

/** A value from the address, read as its default's type; missing, empty or unreadable, the
 * default. */
function decodeValue(text: string | undefined, base: FilterValue): FilterValue {
  if (text === undefined || text === '') return base
  if (typeof base === 'boolean') return text === '1' || text === 'true' ? true : text === '0' || text === 'false' ? false : base
  if (typeof base === 'number') {
    const n = Number(text)
    return Number.isFinite(n) ? n : base
  }
  return text.slice(0, MAX_TEXT)
}
