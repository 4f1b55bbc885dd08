import { createI18n } from 'vue-i18n'
import en from './en'
import zh from './zh-CN'

export type Locale = 'zh-CN' | 'en'
export const LOCALES: Locale[] = ['zh-CN', 'en']
const STORAGE_KEY = 'beacon.locale'

function initialLocale(): Locale {
  const saved = typeof localStorage === 'undefined' ? null : localStorage.getItem(STORAGE_KEY)
  return saved === 'en' || saved === 'zh-CN' ? saved : 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zh, en },
  missingWarn: false,
  fallbackWarn: false,
})

export function setLocale(locale: Locale) {
  i18n.global.locale.value = locale
  localStorage.setItem(STORAGE_KEY, locale)
  document.documentElement.lang = locale
}

export function currentLocale(): Locale {
  return i18n.global.locale.value as Locale
}

/** Translates a key if it exists, or returns the fallback (for codes from the server). */
export function tOr(key: string, fallback: string, params: Record<string, unknown> = {}): string {
  return i18n.global.te(key) || i18n.global.te(key, 'zh-CN') ? i18n.global.t(key, params) : fallback
}

/** Message key of a dotted server code (`unit.create` → `actions.unit_create`). */
export function codeKey(group: string, code: string): string {
  return `${group}.${code.replace(/\./g, '_')}`
}
