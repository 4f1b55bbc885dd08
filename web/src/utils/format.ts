import { currentLocale } from '@/i18n'

/** Times are shown in China Standard Time whatever the browser's zone. */
export function formatTime(value: string | null | undefined, withSeconds = false): string {
  if (!value) return ''
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) return value
  return new Intl.DateTimeFormat(currentLocale() === 'en' ? 'en-GB' : 'zh-CN', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: withSeconds ? '2-digit' : undefined,
    hour12: false,
  }).format(date)
}

/** A month (1–12) named in the UI language, as the calendar writes it (Chinese numerals with the month sign; Jan … Dec). */
export function monthName(month: number): string {
  const locale = currentLocale() === 'en' ? 'en-GB' : 'zh-CN'
  return new Intl.DateTimeFormat(locale, { month: 'short', timeZone: 'UTC' }).format(new Date(Date.UTC(2026, month - 1, 1)))
}
