import { i18n, tOr } from '@/i18n'
import { ApiError } from '@/api/client'

/** The user's-language text for an error from the API. */
export function errorText(error: unknown): string {
  const t = i18n.global.t
  if (error instanceof ApiError) {
    if (error.code === 'validation_failed') {
      const parts = Object.entries(error.fields).map(
        ([field, code]) => `${fieldLabel(field)}：${fieldErrorText(code)}`,
      )
      return parts.length ? parts.join('；') : t('errors.validation_failed')
    }
    return tOr(`errors.${error.code}`, t('errors.unknown', { code: error.code }))
  }
  return t('errors.unknown', { code: String(error) })
}

export function fieldErrorText(code: string): string {
  return tOr(`fieldErrors.${code}`, tOr(`errors.${code}`, code))
}

/** Field → translated message, for `el-form-item :error`. */
export function fieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError)) return {}
  return Object.fromEntries(Object.entries(error.fields).map(([field, code]) => [field, fieldErrorText(code)]))
}

/**
 * The name of a field the server reported, also for paths into lists and maps
 * (`people.2.user_id`, `staffing.city.min_staff`): each part named, positions counted from 1.
 */
export function fieldLabel(path: string): string {
  if (i18n.global.te(`fields.${path}`) || i18n.global.te(`fields.${path}`, 'zh-CN')) return tOr(`fields.${path}`, path)
  return path
    .split('.')
    .map((part) => (/^\d+$/.test(part) ? `#${Number(part) + 1}` : tOr(`fields.${part}`, tOr(`levels.${part}`, tOr(`duty.slotKinds.${part}`, part)))))
    .join(' ')
}
