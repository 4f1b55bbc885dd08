// Official documents (a report, the shift's ledger) go to Chinese offices: their wording is
// Chinese whatever the UI language, while the page around them follows the UI.
import { i18n } from '@/i18n'

/** A message of an official document, always in Chinese. */
export function docT(key: string, params: Record<string, unknown> = {}): string {
  return i18n.global.t(key, params, { locale: 'zh-CN' })
}

/** A time in a document, in Chinese and in Beijing time. */
export function docTime(value: string | null | undefined): string {
  if (!value) return ''
  const parts = new Intl.DateTimeFormat('zh-CN', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date(value))
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? ''
  return docT('documents.time', { y: get('year'), m: get('month'), d: get('day'), hh: get('hour'), mm: get('minute') })
}
