import { i18n, tOr } from '@/i18n'
import { ApiError } from '@/api/client'

/** The user's-language text for an error from the API. */
export function errorText(error: unknown): string {
  const t = i18n.global.t
  if (error instanceof ApiError) {
    if (error.code === 'validation_failed') {
      const parts = Object.entries(error.fields).map(
        ([field, code]) => `${tOr(`fields.${field}`, field)}：${fieldErrorText(code)}`,
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
