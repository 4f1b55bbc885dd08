// Server-made workbooks: every ledger's Excel export takes the list's own filter and the
// user's language, so the link is built the same way everywhere.

/** The user's language for server-made files (`lang=` of the Excel exports). */
export function exportLang(locale: string): 'en' | 'zh' {
  return locale === 'en' ? 'en' : 'zh'
}

/** The address of `path` (an `.xlsx` endpoint) with the filter's set values and the language. */
export function workbookUrl(path: string, filter: Record<string, string | number | boolean | null | undefined>, locale: string): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(filter)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value))
  }
  params.set('lang', exportLang(locale))
  return `${path}?${params.toString()}`
}
